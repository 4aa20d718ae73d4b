"""case-core HTTP app and background work (built in the lifespan, never at import)."""

from fastapi import FastAPI

from omnicase.case_core.models import inbox, outbox
from omnicase.case_core.service import SPEC
from omnicase.case_core.settings import CaseCoreSettings
from omnicase.kit.app import ServiceParts, create_service_app
from omnicase.kit.settings import load_settings


def create_app(settings: CaseCoreSettings | None = None) -> FastAPI:
    settings = settings or load_settings(CaseCoreSettings)
    parts = ServiceParts(
        outbox_table=outbox,
        inbox_table=inbox,
    )
    return create_service_app(SPEC, settings, parts)
