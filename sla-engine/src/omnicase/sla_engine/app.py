"""sla-engine HTTP app and background work (built in the lifespan, never at import)."""

from fastapi import FastAPI

from omnicase.kit.app import ServiceParts, create_service_app
from omnicase.kit.settings import load_settings
from omnicase.sla_engine.models import inbox, outbox
from omnicase.sla_engine.service import SPEC
from omnicase.sla_engine.settings import SlaEngineSettings


def create_app(settings: SlaEngineSettings | None = None) -> FastAPI:
    settings = settings or load_settings(SlaEngineSettings)
    parts = ServiceParts(
        outbox_table=outbox,
        inbox_table=inbox,
    )
    return create_service_app(SPEC, settings, parts)
