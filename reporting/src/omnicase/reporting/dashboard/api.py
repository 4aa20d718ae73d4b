"""GET /reports: the dashboard page (a shell holding no data: its script signs in with the gateway's
password grant and reads the reports API with the bearer token, as any client of the API does)."""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, Response

from omnicase.kit.errors import NotFound

router = APIRouter(tags=["reports"])

_STATIC = files("omnicase.reporting.dashboard") / "static"
_TYPES = {"dashboard.js": "text/javascript; charset=utf-8", "dashboard.css": "text/css; charset=utf-8"}
# The page runs only its own script and style, and shows images it made from the API's answers.
_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def _asset(name: str, media_type: str) -> Response:
    return Response(
        (_STATIC / name).read_bytes(),
        media_type=media_type,
        headers={"Content-Security-Policy": _POLICY, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/reports", operation_id="show_reports_dashboard", include_in_schema=False)
async def show_reports_dashboard() -> Response:
    return _asset("dashboard.html", "text/html; charset=utf-8")


@router.get("/reports/{asset}", operation_id="get_reports_dashboard_asset", include_in_schema=False)
async def get_reports_dashboard_asset(asset: str) -> Response:
    if asset not in _TYPES:
        raise NotFound(f"No resource at /reports/{asset}.")
    return _asset(asset, _TYPES[asset])
