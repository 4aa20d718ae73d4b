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
from omnicase.gateway.proxy import router as proxy_router
from omnicase.gateway.service import SPEC
from omnicase.gateway.settings import GatewaySettings
from omnicase.gateway.sockets import router as socket_router
from omnicase.gateway.state import GatewayRuntime, GatewayState, StateDep, gateway_state
from omnicase.gateway.stream.api import router as stream_router
from omnicase.kit.app import ServiceParts, Stop, create_service_app
from omnicase.kit.clock import utcnow
from omnicase.kit.periodic import periodic
from omnicase.kit.settings import load_settings

logger = logging.getLogger(__name__)

OPENAPI_TAGS = [
    {"name": "auth", "description": "Log in, refresh and revoke tokens; who am I."},
    {"name": "users", "description": "People who use Omnicase: admins, agents, light agents, customers."},
    {"name": "api-tokens", "description": "Bearer tokens for integrations, limited by scopes."},
    {"name": "docs", "description": "The suite's OpenAPI document."},
    {"name": "stream", "description": "Live events for consoles and portals (server-sent events)."},
]


async def _bootstrap_admin(runtime: GatewayRuntime) -> None:
    """The first admin, from the settings, when no admin exists yet."""
    settings = runtime.settings
    if settings.bootstrap_admin_email and settings.bootstrap_admin_password:
        async with runtime.database.unit_of_work() as session:
            created = await runtime.state.identity.bootstrap_admin(
                session, settings.bootstrap_admin_email, settings.bootstrap_admin_password, utcnow()
            )
        if created:
            logger.info("bootstrap admin created", extra={"email": settings.bootstrap_admin_email})


PURGE_EVERY_SECONDS = 3600.0
KEEP_REVOKED = timedelta(days=30)


async def _start_purger(runtime: GatewayRuntime) -> Stop:
    """Hourly: forget expired refresh tokens and logins that are over (each replica; deletes are idempotent)."""

    async def purge() -> None:
        async with runtime.database.unit_of_work() as session:
            tokens, logins = await runtime.state.identity.purge_expired(session, utcnow(), keep_revoked=KEEP_REVOKED)
        if tokens or logins:
            logger.info("purged expired tokens", extra={"refresh_tokens": tokens, "sessions": logins})

    return periodic("gateway-token-purge", PURGE_EVERY_SECONDS, purge).stop


def _start_rate_limiter(limiter: RateLimiter) -> Callable[[GatewayRuntime], Awaitable[Stop]]:
    """The shared counters' own engine (autocommit, small pool) and the loop pruning them."""

    async def start(runtime: GatewayRuntime) -> Stop:
        settings = runtime.settings
        engine = create_counter_engine(settings.database_url, pool_size=settings.rate_limit_pool_size)
        repository = CounterRepository(engine)
        limiter.attach(repository)
        stop_pruner = await limiter.start_pruner()

        async def stop() -> None:
            await stop_pruner()
            limiter.attach(None)
            await repository.close()
            await engine.dispose()

        return stop

    return start


def _service_ready(name: str) -> Callable[[GatewayRuntime], Awaitable[None]]:
    async def check(runtime: GatewayRuntime) -> None:
        base_url = runtime.state.service_urls[name]
        response = await runtime.state.http.get(base_url.rstrip("/") + "/readyz", timeout=2.5)
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
async def openapi_document(request: Request, state: StateDep) -> JSONResponse:
    """Every operation of every service reachable through this gateway, with security schemes and problems."""
    return JSONResponse(await state.openapi.document(request.app.openapi()))


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or load_settings(GatewaySettings)
    limiter = RateLimiter(
        Policy("ip", settings.rate_limit_ip_requests, settings.rate_limit_window_seconds),
        Policy("token", settings.rate_limit_token_requests, settings.rate_limit_window_seconds),
        store_timeout=settings.rate_limit_store_timeout,
    )
    background: list[Callable[[GatewayRuntime], Awaitable[Stop | None]]] = [_bootstrap_admin, _start_purger]
    if settings.rate_limit_enabled:
        background.append(_start_rate_limiter(limiter))
    parts = ServiceParts[GatewaySettings, GatewayState](
        state=gateway_state,
        # The proxy's catch-all route goes last so the gateway's own routes win.
        routers=[docs_router, identity_router, stream_router, socket_router, proxy_router],
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
