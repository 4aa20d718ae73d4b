"""Fixtures of collaboration's tests: the running app behind the gateway's identity, cases told by case events."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio

from omnicase.collaboration.app import create_app
from omnicase.collaboration.cases.consumer import handle_case_events
from omnicase.collaboration.settings import CollaborationSettings
from omnicase.devtools.testing.apps import GatewayIdentity, running
from omnicase.devtools.testing.plugin import SettingsFactory
from omnicase.devtools.testing.servers import serve_http
from omnicase.kit.bus.batch import Received
from omnicase.kit.db import Database, create_engine
from omnicase.kit.events import (
    CaseCreated,
    CaseSnapshot,
    CaseStatus,
    CaseUpdated,
    Channel,
    EventData,
    FieldChange,
    Priority,
)
from omnicase.routing.app import create_app as create_routing
from omnicase.routing.settings import RoutingSettings

SCOPES = frozenset({"collaboration:read", "collaboration:write"})

TellCase = Callable[..., Awaitable[CaseSnapshot]]


@pytest.fixture
def settings(service_settings: SettingsFactory) -> CollaborationSettings:
    settings: CollaborationSettings = service_settings(CollaborationSettings)
    return settings


@pytest_asyncio.fixture
async def client(settings: CollaborationSettings) -> AsyncIterator[httpx.AsyncClient]:
    """The running service (consumer, relay); calls are an admin's (a lead) unless ``auth=`` says otherwise."""
    async with running(create_app(settings), scopes=SCOPES) as client:
        yield client


@pytest.fixture
def as_agent(settings: CollaborationSettings) -> Callable[[uuid.UUID], GatewayIdentity]:
    """``auth=as_agent(user_id)``: a call by that agent through the gateway."""

    def identity(user_id: uuid.UUID, role: Any = "agent") -> GatewayIdentity:
        return GatewayIdentity(settings.internal_secret, role=role, scopes=SCOPES, subject=str(user_id))

    return identity


@pytest_asyncio.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = Database(create_engine(database_url, pool_size=1))
    yield database
    await database.dispose()


@pytest.fixture
def tell_case(database: Database) -> TellCase:
    """Hand case-core's events about a case to collaboration's consumer, as the kit would (committed)."""

    async def tell(
        *,
        case_id: uuid.UUID | None = None,
        assignee_id: uuid.UUID | None = None,
        status: CaseStatus = CaseStatus.OPEN,
        version: int = 1,
        subject: str = "Invoices stop syncing",
        description: str = "",
        language: str | None = "en",
    ) -> CaseSnapshot:
        now = datetime.now(UTC)
        snapshot = CaseSnapshot(
            case_id=case_id or uuid.uuid4(),
            number=version,
            subject=subject,
            status=status,
            priority=Priority.HIGH,
            channel=Channel.EMAIL,
            assignee_id=assignee_id,
            language=language,
            created_at=now,
            updated_at=now,
            version=version,
        )
        data: EventData
        if version == 1:
            data = CaseCreated(case=snapshot, description=description)
        else:
            data = CaseUpdated(
                case_id=snapshot.case_id,
                version=version,
                changes={"status": FieldChange(new=status.value)},
                actor="test",
                case=snapshot,
            )
        envelope = data.envelope(source="case-core", subject=str(snapshot.case_id))
        async with database.unit_of_work() as session:
            await handle_case_events(session, [Received(envelope, data)])
        return snapshot

    return tell


@pytest_asyncio.fixture
async def routing(service_settings: SettingsFactory) -> AsyncIterator[str]:
    """routing running on a real port (agents' groups and email addresses); yields its URL."""
    async with serve_http(create_routing(service_settings(RoutingSettings))) as url:
        yield url
