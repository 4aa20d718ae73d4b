"""Run a service's app (lifespan included) and talk to it in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from omnicase.devtools.testing.servers import serve_http
from omnicase.kit.clock import utcnow
from omnicase.kit.identity import IDENTITY_HEADER, Role, sign_identity


class GatewayIdentity(httpx.Auth):
    """Signs each request's identity header as the gateway would (fresh, so a long test never
    sends an expired one)."""

    def __init__(
        self, secret: str, *, role: Role = "admin", scopes: frozenset[str] = frozenset(), subject: str = "test-admin"
    ) -> None:
        self.secret = secret
        self.role: Role = role
        self.scopes = scopes
        self.subject = subject

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[IDENTITY_HEADER] = sign_identity(
            subject=self.subject, role=self.role, scopes=self.scopes, secret=self.secret, now=utcnow()
        )
        yield request


@asynccontextmanager
async def running(app: FastAPI, *, scopes: frozenset[str] | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """Start ``app``'s lifespan (database, producer, relay, consumers) and yield a client for it.

    With ``scopes`` the client calls as an admin holding them, as through the gateway;
    without, its requests carry no identity (``/api/`` routes answer 401).
    """
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        auth = GatewayIdentity(app.state.settings.internal_secret, scopes=scopes) if scopes is not None else None
        async with httpx.AsyncClient(transport=transport, base_url="http://service", auth=auth) as client:
            yield client


@asynccontextmanager
async def served(app: FastAPI, *, scopes: frozenset[str]) -> AsyncIterator[httpx.AsyncClient]:
    """Serve ``app`` on a real port (so another service under test can call it) and yield a client
    calling it as an admin holding ``scopes``, as through the gateway (its ``base_url`` is the port's)."""
    async with serve_http(app) as url:
        auth = GatewayIdentity(app.state.settings.internal_secret, scopes=scopes)
        async with httpx.AsyncClient(base_url=url, auth=auth) as client:
            yield client


KIT_CHECKS = ("database", "broker", "outbox_relay")


async def assert_ready(client: httpx.AsyncClient, service: str, *checks: str) -> dict[str, Any]:
    """``client``'s service answers ``/readyz`` with the kit's checks and exactly ``checks`` besides, all ok,
    and serves its OpenAPI document titled ``Omnicase <service>``; returns that document."""
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == dict.fromkeys((*KIT_CHECKS, *checks), "ok"), ready.text
    openapi: dict[str, Any] = (await client.get("/openapi.json")).json()
    assert openapi["info"]["title"] == f"Omnicase {service}"
    return openapi
