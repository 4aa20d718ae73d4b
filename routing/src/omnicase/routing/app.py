"""routing HTTP app and background work (built in the lifespan, never at import)."""

from fastapi import FastAPI

from omnicase.kit.app import ServiceParts, create_service_app
from omnicase.kit.settings import load_settings
from omnicase.routing.models import inbox, outbox
from omnicase.routing.service import SPEC
from omnicase.routing.settings import RoutingSettings


def create_app(settings: RoutingSettings | None = None) -> FastAPI:
    settings = settings or load_settings(RoutingSettings)
    parts = ServiceParts(
        outbox_table=outbox,
        inbox_table=inbox,
    )
    return create_service_app(SPEC, settings, parts)
