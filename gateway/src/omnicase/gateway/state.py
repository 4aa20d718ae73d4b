"""What the gateway holds while it runs, built in one place at start: its upstream client and its services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
from fastapi import Depends, Request

from omnicase.gateway.identity.contacts import ContactDirectory
from omnicase.gateway.identity.service import IdentityService
from omnicase.gateway.openapi import MergedSpec
from omnicase.gateway.settings import GatewaySettings
from omnicase.kit.app import Runtime, state_of


@dataclass(frozen=True)
class GatewayState:
    http: httpx.AsyncClient
    # Service name → base URL, from OMNICASE_SERVICE_URLS.
    service_urls: dict[str, str]
    identity: IdentityService
    contacts: ContactDirectory
    openapi: MergedSpec


GatewayRuntime = Runtime[GatewaySettings, GatewayState]


def build_client(connect_timeout: float, read_timeout: float, max_connections: int) -> httpx.AsyncClient:
    """The upstream client: no retries (a proxied request is not replayed), no redirects followed."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        transport=httpx.AsyncHTTPTransport(retries=0),
        follow_redirects=False,
    )


@asynccontextmanager
async def gateway_state(runtime: Runtime[GatewaySettings, Any]) -> AsyncIterator[GatewayState]:
    settings = runtime.settings
    client = build_client(
        settings.upstream_connect_timeout, settings.upstream_read_timeout, settings.upstream_max_connections
    )
    try:
        yield GatewayState(
            http=client,
            service_urls=dict(settings.service_urls),
            identity=IdentityService(settings),
            contacts=ContactDirectory(client, settings.service_urls.get("case-core"), settings.internal_secret),
            openapi=MergedSpec(
                client,
                dict(settings.service_urls),
                settings.openapi_cache_seconds,
                settings.openapi_fetch_timeout,
                settings.max_page_size,
            ),
        )
    finally:
        await client.aclose()


def current_state(request: Request) -> GatewayState:
    return state_of(request, GatewayState)


StateDep = Annotated[GatewayState, Depends(current_state)]
