"""gateway HTTP app: the one public entry of the suite."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI

from omnicase.gateway.proxy import build_client
from omnicase.gateway.proxy import router as proxy_router
from omnicase.gateway.service import SPEC
from omnicase.gateway.settings import GatewaySettings
from omnicase.kit.app import Runtime, ServiceParts, create_service_app
from omnicase.kit.settings import load_settings


async def _start_http_client(runtime: Runtime) -> Callable[[], Awaitable[None]]:
    settings = runtime.settings
    assert isinstance(settings, GatewaySettings)
    client = build_client(
        settings.upstream_connect_timeout, settings.upstream_read_timeout, settings.upstream_max_connections
    )
    runtime.extra["http"] = client
    runtime.extra["service_urls"] = dict(settings.service_urls)
    return client.aclose


def _service_ready(name: str) -> Callable[[Runtime], Awaitable[None]]:
    async def check(runtime: Runtime) -> None:
        base_url = runtime.extra["service_urls"][name]
        response = await runtime.extra["http"].get(base_url.rstrip("/") + "/readyz", timeout=2.5)
        if response.status_code != 200:
            failing = {k: v for k, v in response.json().get("checks", {}).items() if v != "ok"}
            raise RuntimeError(f"{name} not ready: {failing}")

    return check


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or load_settings(GatewaySettings)
    parts = ServiceParts(
        routers=[proxy_router],
        uses_kafka=False,
        background=[_start_http_client],
        readiness={f"service:{name}": _service_ready(name) for name in settings.service_urls},
    )
    return create_service_app(SPEC, settings, parts)
