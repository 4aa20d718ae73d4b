"""Fixtures of the gateway's tests: a stand-in upstream service over real HTTP and the running gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest_asyncio

from omnicase.devtools.testing.apps import running
from omnicase.devtools.testing.servers import serve_http
from omnicase.gateway.app import create_app
from omnicase.gateway.testing import Gateway, Upstream, gateway_settings, upstream_app


@pytest_asyncio.fixture
async def upstream() -> AsyncIterator[Upstream]:
    state = Upstream(url="")
    async with serve_http(upstream_app(state)) as url:
        state.url = url
        yield state


@pytest_asyncio.fixture
async def gateway(database_url: str, upstream: Upstream) -> AsyncIterator[Gateway]:
    settings = gateway_settings(database_url, upstream)
    app = create_app(settings)
    async with running(app) as client:
        yield Gateway(client, app, settings)


@pytest_asyncio.fixture
async def gateway_with(database_url: str, upstream: Upstream) -> Callable[..., AbstractAsyncContextManager[Gateway]]:
    """``async with gateway_with(max_body_bytes=...) as gw``: a gateway with other settings."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[Gateway]:
        settings = gateway_settings(database_url, upstream, **overrides)
        app = create_app(settings)
        async with running(app) as client:
            yield Gateway(client, app, settings)

    return start
