"""case-core test fixtures: the app on a rolled-back transaction, handlers, outbox readers, inbound messages."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import select

from omnicase.case_core.app import create_app
from omnicase.case_core.commands.consumer import ACCEPTS as COMMANDS_ACCEPTS
from omnicase.case_core.commands.consumer import CommandConsumer
from omnicase.case_core.directory import StaffDirectory
from omnicase.case_core.intake.consumer import ACCEPTS as INTAKE_ACCEPTS
from omnicase.case_core.models import outbox
from omnicase.case_core.settings import CaseCoreSettings
from omnicase.case_core.testing import Deliver, Email, Published, identity_headers, inbound_email
from omnicase.case_core.wiring import Services, build_services
from omnicase.devtools.testing.apps import GatewayIdentity
from omnicase.devtools.testing.clock import ManualClock, installed_clock
from omnicase.devtools.testing.servers import serve_http
from omnicase.kit.app import Runtime
from omnicase.kit.bus.batch import Received
from omnicase.kit.db import Database
from omnicase.kit.events import Envelope, EventData
from omnicase.kit.outbox import Outbox
from omnicase.routing.app import create_app as create_routing_app
from omnicase.routing.models import outbox as routing_outbox
from omnicase.routing.service import SPEC as ROUTING
from omnicase.routing.settings import RoutingSettings


@pytest.fixture
def settings(database_url: str) -> CaseCoreSettings:
    return CaseCoreSettings(
        database_url=database_url,
        max_attachment_bytes=1024,
        max_attachments_per_message=3,
        # Operators' default for webhooks whose creator names nobody to hear of a disable.
        webhook_notify_email="ops@omnicase.test",
    )


@pytest.fixture
def services(settings: CaseCoreSettings) -> Services:
    return build_services(settings)


@pytest.fixture
def app(db: Database, settings: CaseCoreSettings) -> FastAPI:
    """case-core's app on the test's rolled-back transaction, its lifespan not run."""
    application = create_app(settings)
    application.state.database = db
    return application


@pytest_asyncio.fixture
async def api(app: FastAPI, settings: CaseCoreSettings) -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP API on the test's rolled-back transaction (no broker: events stay in the outbox)."""
    transport = httpx.ASGITransport(app=app)
    headers = identity_headers(settings.internal_secret, role="admin")
    async with httpx.AsyncClient(transport=transport, base_url="http://case-core", headers=headers) as client:
        yield client


@pytest.fixture
def agent_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def agent(settings: CaseCoreSettings, agent_id: str) -> dict[str, str]:
    """Headers of an agent's request (the admin's are the client's default)."""
    return identity_headers(settings.internal_secret, role="agent", subject=agent_id)


@pytest.fixture
def deliver(db: Database, services: Services) -> Deliver:
    """Hand one event to case-core's consumers as the kit would (one transaction)."""
    intake = services.intake
    commands = CommandConsumer(services.cases)

    async def run(data: EventData) -> None:
        envelope = data.envelope(source="test", subject="test")
        batch = [Received(envelope, data)]
        async with db.unit_of_work() as session:
            if data.event_type in INTAKE_ACCEPTS:
                await intake.handle(session, batch)
            if data.event_type in COMMANDS_ACCEPTS:
                await commands.handle(session, batch)

    return run


@pytest.fixture
def published(db: Database) -> Published:
    """``(type, data)`` of every event case-core staged in its outbox, in order (optionally for one key)."""

    async def read(key: str | uuid.UUID | None = None) -> list[tuple[str, dict[str, Any]]]:
        statement = select(outbox.c.payload).order_by(outbox.c.id)
        if key is not None:
            statement = statement.where(outbox.c.key == str(key))
        async with db.unit_of_work() as session:
            payloads = (await session.scalars(statement)).all()
        envelopes = [Envelope.from_bytes(payload) for payload in payloads]
        return [(envelope.type, envelope.data) for envelope in envelopes]

    return read


@pytest.fixture
def email() -> Email:
    return inbound_email


@pytest.fixture
def address() -> str:
    """A sender address of this test alone."""
    return f"user-{uuid.uuid4().hex[:10]}@customer.example"


@pytest.fixture
def clock() -> Iterator[ManualClock]:
    """The kit's clock, moved only by the test (retry schedules without sleeping)."""
    with installed_clock(datetime.now(UTC)) as manual:
        yield manual


@pytest_asyncio.fixture
async def routing(db: Database, database_url: str, settings: CaseCoreSettings) -> AsyncIterator[httpx.AsyncClient]:
    """The real routing app over real HTTP, on the test's rolled-back transaction (its lifespan
    is not run: no broker). The client is an admin of it; its ``base_url`` is what case-core calls."""
    routing_settings = RoutingSettings(database_url=database_url, internal_secret=settings.internal_secret)
    app = create_routing_app(routing_settings)
    app.state.database = db
    app.state.runtime = Runtime(spec=ROUTING, settings=routing_settings, database=db, outbox=Outbox(routing_outbox))
    async with serve_http(app, lifespan="off") as url:
        auth = GatewayIdentity(settings.internal_secret, scopes=frozenset({"routing:read", "routing:write"}))
        async with httpx.AsyncClient(base_url=url, auth=auth) as client:
            yield client


@pytest_asyncio.fixture
async def membership(app: FastAPI, routing: httpx.AsyncClient, settings: CaseCoreSettings) -> AsyncIterator[None]:
    """The app asks the real routing (above) for its callers' groups, uncached."""
    directory = StaffDirectory(str(routing.base_url), settings.internal_secret, ttl_seconds=0)
    app.state.services.directory = directory
    yield
    await directory.aclose()
