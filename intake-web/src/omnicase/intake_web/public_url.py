"""The public address of this service's routes, as browsers and providers see it."""

from __future__ import annotations

from fastapi import Request

from omnicase.intake_web.settings import IntakeWebSettings


def public_url(settings: IntakeWebSettings, request: Request, path: str) -> str:
    base = settings.public_base_url or str(request.base_url)
    return base.rstrip("/") + path
