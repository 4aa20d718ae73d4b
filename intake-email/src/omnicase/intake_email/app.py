"""intake-email HTTP app and background work (built in the lifespan, never at import)."""

from fastapi import FastAPI

from omnicase.intake_email.models import inbox, outbox
from omnicase.intake_email.service import SPEC
from omnicase.intake_email.settings import IntakeEmailSettings
from omnicase.kit.app import ServiceParts, create_service_app
from omnicase.kit.settings import load_settings


def create_app(settings: IntakeEmailSettings | None = None) -> FastAPI:
    settings = settings or load_settings(IntakeEmailSettings)
    parts = ServiceParts(
        outbox_table=outbox,
        inbox_table=inbox,
    )
    return create_service_app(SPEC, settings, parts)
