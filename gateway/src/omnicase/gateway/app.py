"""gateway HTTP app: the one public entry of the suite."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.middleware.cors import CORSMiddleware

from omnicase.gateway.access.clientip import parse_networks
from omnicase.gateway.access.counters import CounterRepository, create_counter_engine
from omnicase.gateway.access.ratelimit import Policy, RateLimiter, RateLimitMiddleware
from omnicase.gateway.identity.api import router as identity_router
from omnicase.gateway.identity.contacts import ContactDirectory
from omnicase.gateway.identity.repository import SessionRepository
from omnicase.gateway.identity.service import IdentityService
from omnicase.gateway.openapi import MergedSpec
from omnicase.gateway.proxy import build_client
from omnicase.gateway.proxy import router as proxy_router
from omnicase.gateway.service import SPEC
from omnicase.gateway.settings import GatewaySettings
from omnicase.kit.app import Runtime, ServiceParts, create_service_app
from omnicase.kit.clock import utcnow
from omnicase.kit.periodic import periodic
from omnicase.kit.settings import load_settings

logger = logging.getLogger(__name__)

OPENAPI_TAGS = [
    {"name": "auth", "description": "Log in, refresh and revoke tokens; who am I."},
    {"name": "users", "description": "People who use Omnicase: admins, agents, light agents, customers."},
    {"name": "api-tokens", "description": "Bearer tokens for integrations, limited by scopes."},
    {"name": "docs", "description": "The suite's OpenAPI document."},
]


async def _start(runtime: Runtime) -> Callable[[], Awaitable[None]]:
    settings = runtime.settings
    assert isinstance(settings, GatewaySettings)
    client = build_client(
        settings.upstream_connect_timeout, settings.upstream_read_timeout, settings.upstream_max_connections
    )
    identity = IdentityService(settings)
    runtime.extra["http"] = client
    runtime.extra["service_urls"] = dict(settings.service_urls)
    runtime.extra["identity"] = identity
    runtime.extra["contacts"] = ContactDirectory(
        client, settings.service_urls.get("case-core"), settings.internal_secret
    )
    runtime.extra["openapi"] = MergedSpec(
        client, dict(settings.service_urls), settings.openapi_cache_seconds, settings.openapi_fetch_timeout
    )
    if settings.bootstrap_admin_email and settings.bootstrap_admin_password:
        async with runtime.database.unit_of_work() as session:
            created = await identity.bootstrap_admin(
                session, settings.bootstrap_admin_email, settings.bootstrap_admin_password, utcnow()
            )
        if created:
            logger.info("bootstrap admin created", extra={"email": settings.bootstrap_admin_email})
    return client.aclose


PURGE_EVERY_SECONDS = 3600.0
KEEP_REVOKED = timedelta(days=30)


async def _start_purger(runtime: Runtime) -> Callable[[], Awaitable[None]]:
    """Hourly: forget expired refresh tokens and logins that are over (each replica; deletes are idempotent)."""

    async def purge() -> None:
        async with runtime.database.unit_of_work() as session:
            tokens, logins = await SessionRepository(session).purge(utcnow(), keep_revoked=KEEP_REVOKED)
        if tokens or logins:
            logger.info("purged expired tokens", extra={"refresh_tokens": tokens, "sessions": logins})

    return periodic("gateway-token-purge", PURGE_EVERY_SECONDS, purge).stop


def _start_rate_limiter(limiter: RateLimiter) -> Callable[[Runtime], Awaitable[Callable[[], Awaitable[None]]]]:
    """The shared counters' own engine (autocommit, small pool) and the loop pruning them."""

    async def start(runtime: Runtime) -> Callable[[], Awaitable[None]]:
        settings = runtime.settings
        assert isinstance(settings, GatewaySettings)
        engine = create_counter_engine(settings.database_url, pool_size=settings.rate_limit_pool_size)
        limiter.attach(CounterRepository(engine))
        stop_pruner = await limiter.start_pruner()

        async def stop() -> None:
            await stop_pruner()
            limiter.attach(None)
            await engine.dispose()

        return stop

    return start


def _service_ready(name: str) -> Callable[[Runtime], Awaitable[None]]:
    async def check(runtime: Runtime) -> None:
        base_url = runtime.extra["service_urls"][name]
        response = await runtime.extra["http"].get(base_url.rstrip("/") + "/readyz", timeout=2.5)
        if response.status_code != 200:
            try:
                failing = {k: v for k, v in response.json().get("checks", {}).items() if v != "ok"}
            except ValueError:
                failing = {"status": str(response.status_code)}
            raise RuntimeError(f"{name} not ready: {failing}")

    return check


docs_router = APIRouter()


@docs_router.get(
    "/openapi.json",
    operation_id="get_openapi",
    tags=["docs"],
    summary="The whole suite's OpenAPI 3.1 document",
    response_model=dict[str, Any],
)
async def openapi_document(request: Request) -> JSONResponse:
    """Every operation of every service reachable through this gateway, with security schemes and problems."""
    spec: MergedSpec = request.app.state.runtime.extra["openapi"]
    return JSONResponse(await spec.document(request.app.openapi()))


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or load_settings(GatewaySettings)
    limiter = RateLimiter(
        Policy("ip", settings.rate_limit_ip_requests, settings.rate_limit_window_seconds),
        Policy("token", settings.rate_limit_token_requests, settings.rate_limit_window_seconds),
        store_timeout=settings.rate_limit_store_timeout,
    )
    background: list[Callable[[Runtime], Awaitable[Callable[[], Awaitable[None]]]]] = [_start, _start_purger]
    if settings.rate_limit_enabled:
        background.append(_start_rate_limiter(limiter))
    parts = ServiceParts(
        # The proxy's catch-all route goes last so the gateway's own routes win.
        routers=[docs_router, identity_router, proxy_router],
        uses_kafka=False,
        requires_gateway_identity=False,
        background=background,
        readiness={f"service:{name}": _service_ready(name) for name in settings.service_urls},
        openapi_tags=OPENAPI_TAGS,
    )
    app = create_service_app(SPEC, settings, parts)
    # FastAPI's built-in /openapi.json would shadow the merged document: drop it (/docs then renders ours).
    app.router.routes[:] = [
        route
        for route in app.router.routes
        if isinstance(route, APIRoute) or getattr(route, "path", None) != app.openapi_url
    ]
    if settings.rate_limit_enabled:
        app.add_middleware(
            RateLimitMiddleware,
            limiter=limiter,
            trusted_proxies=parse_networks(settings.trusted_proxies),
        )
    if settings.cors_origins:
        # Outermost, so refusals (401, 429) carry CORS headers too and browsers can read them.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "If-None-Match", "X-Request-ID"],
            expose_headers=["ETag", "Location", "Retry-After", "RateLimit", "RateLimit-Policy", "X-Request-ID"],
            max_age=600,
        )
    return app
