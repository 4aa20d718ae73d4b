"""The public address of this service's routes, as browsers and providers see it."""

from __future__ import annotations

from fastapi import Request

from omnicase.intake_web.settings import IntakeWebSettings


def public_url(settings: IntakeWebSettings, request: Request, path: str) -> str:
    base = settings.public_base_url or str(request.base_url)
    return base.rstrip("/") + path


def called_url(settings: IntakeWebSettings, request: Request, base: str | None = None) -> str:
    """The whole URL a provider called (query included), as it signed it: under ``base`` when the
    provider was given another base than this service's public one."""
    url = base.rstrip("/") + request.url.path if base else public_url(settings, request, request.url.path)
    return f"{url}?{request.url.query}" if request.url.query else url
