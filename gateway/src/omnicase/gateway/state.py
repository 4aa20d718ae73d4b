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
from omnicase.gateway.stream.feed import StreamFeed
from omnicase.kit.app import Runtime, state_of
from omnicase.kit.topics import Topic


@dataclass(frozen=True)
class GatewayState:
    http: httpx.AsyncClient
    # Service name → base URL, from OMNICASE_SERVICE_URLS.
    service_urls: dict[str, str]
    identity: IdentityService
    contacts: ContactDirectory
    openapi: MergedSpec
    # None when the live stream is switched off.
    stream: StreamFeed | None


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
    stream = _stream_feed(settings) if settings.stream_enabled else None
    if stream is not None:
        await stream.start()
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
            stream=stream,
        )
    finally:
        if stream is not None:
            await stream.stop()
        await client.aclose()


def _stream_feed(settings: GatewaySettings) -> StreamFeed:
    # The order is part of every stream event id: new topics go at the end.
    return StreamFeed(
        settings.kafka_bootstrap_servers,
        settings.topic_prefix,
        [
            Topic.CASE_EVENTS,
            Topic.SLA_EVENTS,
            Topic.ROUTING_EVENTS,
            Topic.SWARM_EVENTS,
            Topic.INTAKE_MESSAGES,
            Topic.VOICE_EVENTS,
        ],
        history_seconds=settings.stream_history_seconds,
        history_max_events=settings.stream_history_max_events,
        queue_size=settings.stream_queue_size,
    )


def current_state(request: Request) -> GatewayState:
    return state_of(request, GatewayState)


StateDep = Annotated[GatewayState, Depends(current_state)]
