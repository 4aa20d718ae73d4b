"""Fixtures of intake-web's tests: the running service, an admin client, a public client, forms."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from omnicase.devtools.devstack.postgres import EmbeddedPostgres
from omnicase.devtools.testing.apps import running
from omnicase.devtools.testing.plugin import BrandDesk, SettingsFactory, park_what_earlier_modules_left
from omnicase.devtools.testing.servers import serve_http
from omnicase.intake_web.app import create_app
from omnicase.intake_web.forms import tokens
from omnicase.intake_web.settings import IntakeWebSettings
from omnicase.kit.clock import utcnow
from omnicase.kit.identity import IDENTITY_HEADER, Role, sign_identity
from omnicase.ops.topics import ensure_suite_topics

# What the gateway grants each role here (its ROLE_SCOPES, for the channels area).
CHANNEL_SCOPES: dict[str, frozenset[str]] = {
    "admin": frozenset({"channels:read", "channels:write"}),
    "agent": frozenset({"channels:read"}),
    "light_agent": frozenset({"channels:read"}),
}


def admin_headers(settings: IntakeWebSettings, role: Role = "admin") -> dict[str, str]:
    token = sign_identity(
        subject=str(uuid.uuid4()),
        role=role,
        scopes=CHANNEL_SCOPES.get(role, frozenset()),
        secret=settings.internal_secret,
        now=utcnow(),
        ttl_seconds=3600,
    )
    return {IDENTITY_HEADER: token}


@dataclass
class Service:
    app: FastAPI
    client: httpx.AsyncClient  # as an admin, through the gateway
    public: httpx.AsyncClient  # anyone on the internet
    settings: IntakeWebSettings
    # start_service's services: take it down before the test ends (a test that restarts it).
    stop: Callable[[], Awaitable[None]] | None = None

    async def form(self, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": "Support request",
            "fields": [
                {"key": "name", "required": True, "labels": {"en": "Your name", "fr": "Votre nom"}},
                {"key": "email", "required": True, "labels": {"en": "Email"}},
                {"key": "subject", "required": True, "labels": {"en": "Subject"}},
                {"key": "description", "required": True, "labels": {"en": "How can we help?"}},
                {
                    "key": "order_number",
                    "kind": "custom",
                    "type": "text",
                    "labels": {"en": "Order number"},
                    "help": {"en": "On your receipt"},
                },
                {"key": "attachments", "labels": {"en": "Files"}},
            ],
            "defaults": {"priority": "high", "tags": ["web", "billing"], "brand": BRAND},
            "thank_you_url": "https://example.com/thanks",
            "spam": {"min_fill_seconds": 2},
            **overrides,
        }
        response = await self.client.post("/api/v1/forms", json=body)
        assert response.status_code == 201, response.text
        form: dict[str, Any] = response.json()
        return form

    def aged_token(self, form_id: str, seconds: float = 30) -> str:
        """A fill-time token as if the form had been shown ``seconds`` ago."""
        return tokens.issue(self.settings.form_token_secret, uuid.UUID(form_id), utcnow() - timedelta(seconds=seconds))

    def valid_fields(self, form_id: str, **overrides: str) -> dict[str, str]:
        return {
            "name": "Jane Doe",
            "email": "jane@example.com",
            "subject": "Invoice is wrong",
            "description": "I was charged twice for order 1234.",
            "order_number": "A-1234",
            "_ts": self.aged_token(form_id),
            "_sid": str(uuid.uuid4()),
            **overrides,
        }

    async def channel(self, config: dict[str, Any], **overrides: Any) -> dict[str, Any]:
        body = {"name": f"{config['kind']} channel", "config": config, **overrides}
        response = await self.client.post("/api/v1/channels", json=body)
        assert response.status_code == 201, response.text
        channel: dict[str, Any] = response.json()
        return channel

    async def channel_messages(self, channel_id: str) -> list[dict[str, Any]]:
        response = await self.client.get(f"/api/v1/channels/{channel_id}/messages")
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def submissions(self, form_id: str) -> list[dict[str, Any]]:
        response = await self.client.get(f"/api/v1/forms/{form_id}/submissions")
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items


StartService = Callable[..., Awaitable[Service]]


# The brand the tests' forms and channels name (case-core must have it: intake-web checks).
BRAND = "acme"


@pytest.fixture(scope="module")
def desk(brand_desk: BrandDesk, embedded_postgres: EmbeddedPostgres, database_url: str) -> BrandDesk:
    """The module's real case-core (the brand desk), with the brand the tests' forms and channels name; what
    earlier modules left pending is parked first (``database_url``: once the migrations made its tables)."""
    park_what_earlier_modules_left(embedded_postgres, "intake_web", "inbound_messages")
    brand_desk.make(BRAND)
    return brand_desk


@pytest_asyncio.fixture
async def start_service(service_settings: SettingsFactory, desk: BrandDesk) -> AsyncIterator[StartService]:
    """``await start_service(**settings overrides)``: the whole service live (``await service.stop()``
    takes it down before the test ends)."""
    stops: list[Callable[[], Awaitable[None]]] = []

    async def start(**overrides: Any) -> Service:
        settings = service_settings(IntakeWebSettings, **{"case_core_url": desk.url, **overrides})
        app = create_app(settings)
        context = running(app)
        client = await context.__aenter__()
        client.headers.update(admin_headers(settings))
        public = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service")
        running_now = True

        async def stop() -> None:
            nonlocal running_now
            if running_now:
                running_now = False
                await public.aclose()
                await context.__aexit__(None, None, None)

        stops.append(stop)
        return Service(app, client, public, settings, stop)

    yield start
    for stop in reversed(stops):
        await stop()


@pytest_asyncio.fixture
async def service(start_service: StartService) -> Service:
    return await start_service()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_service(database_url: str, kafka_bootstrap: str, desk: BrandDesk) -> AsyncIterator[Service]:
    """One running service for a whole test module (its tests run on the module's event loop).

    For tests that each work on forms or channels of their own and never count a
    whole topic: it saves a service start (and a consumer group join) per test.
    """
    prefix = f"t{uuid.uuid4().hex[:10]}."
    await ensure_suite_topics(kafka_bootstrap, prefix=prefix, partitions=4)
    settings = IntakeWebSettings(
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_prefix=prefix,
        consumer_session_timeout_ms=3000,
        consumer_heartbeat_interval_ms=300,
        case_core_url=desk.url,
    )
    app = create_app(settings)
    async with running(app) as client:
        client.headers.update(admin_headers(settings))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service") as public:
            yield Service(app, client, public, settings)


@dataclass
class Served:
    """intake-web as a real HTTP server (for browsers), with an admin client for it."""

    url: str
    client: httpx.AsyncClient
    settings: IntakeWebSettings


@pytest_asyncio.fixture
async def served_service(service_settings: SettingsFactory, desk: BrandDesk) -> AsyncIterator[Served]:
    settings = service_settings(IntakeWebSettings, case_core_url=desk.url)
    async with (
        serve_http(create_app(settings)) as url,
        httpx.AsyncClient(base_url=url, headers=admin_headers(settings)) as client,
    ):
        yield Served(url, client, settings)
