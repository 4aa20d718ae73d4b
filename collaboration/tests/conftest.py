"""Fixtures of collaboration's tests: the running app behind the gateway's identity, reading cases
from the real case-core served over HTTP."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio

from omnicase.case_core.app import create_app as create_case_core
from omnicase.case_core.settings import CaseCoreSettings
from omnicase.collaboration.app import create_app
from omnicase.collaboration.settings import CollaborationSettings
from omnicase.devtools.testing.apps import GatewayIdentity, running, served
from omnicase.devtools.testing.plugin import SettingsFactory
from omnicase.devtools.testing.servers import serve_http
from omnicase.kit.db import Database, create_engine
from omnicase.routing.app import create_app as create_routing
from omnicase.routing.settings import RoutingSettings

SCOPES = frozenset({"collaboration:read", "collaboration:write"})
CASE_SCOPES = frozenset({"cases:read", "cases:write", "contacts:read", "contacts:write"})
# A port nothing listens on (discard): a peer that cannot answer.
UNREACHABLE = "http://127.0.0.1:9"

TellCase = Callable[..., Awaitable["ToldCase"]]


@pytest_asyncio.fixture
async def case_core(service_settings: SettingsFactory) -> AsyncIterator[httpx.AsyncClient]:
    """The real case-core, served over HTTP (collaboration reads cases through it); the client is its admin."""
    async with served(create_case_core(service_settings(CaseCoreSettings)), scopes=CASE_SCOPES) as client:
        yield client


@pytest.fixture
def settings(service_settings: SettingsFactory, case_core: httpx.AsyncClient) -> CollaborationSettings:
    """Reading cases from that case-core; the other peers unreachable unless a test serves them (no SLA
    due time shown, no draft article offered, 503 where routing must answer)."""
    settings: CollaborationSettings = service_settings(
        CollaborationSettings,
        case_core_url=str(case_core.base_url),
        sla_engine_url=UNREACHABLE,
        routing_url=UNREACHABLE,
        knowledge_url=UNREACHABLE,
    )
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


@dataclass(frozen=True)
class ToldCase:
    case_id: uuid.UUID
    number: int


@pytest.fixture
def tell_case(case_core: httpx.AsyncClient) -> TellCase:
    """A case created (or, given ``case_id``, changed) in the real case-core, as an admin of it."""

    async def tell(
        *,
        case_id: uuid.UUID | None = None,
        assignee_id: uuid.UUID | None = None,
        status: str = "open",
        subject: str = "Invoices stop syncing",
        description: str = "It stopped on Monday.",
        language: str | None = "en",
        brand: str | None = None,
    ) -> ToldCase:
        if case_id is None:
            body: dict[str, Any] = {
                "subject": subject,
                "description": description,
                "requester": {"email": f"sam-{uuid.uuid4().hex[:8]}@customer.example", "name": "Sam"},
                "status": status,
                "assignee_id": str(assignee_id) if assignee_id else None,
                "language": language,
                "brand": brand,
            }
            answer = await case_core.post("/api/v1/cases", json=body)
            assert answer.status_code == 201, answer.text
        else:
            current = (await case_core.get(f"/api/v1/cases/{case_id}")).json()
            change = {"status": status, "assignee_id": str(assignee_id) if assignee_id else None}
            answer = await case_core.patch(
                f"/api/v1/cases/{case_id}", json=change, headers={"If-Match": f'"{current["version"]}"'}
            )
            assert answer.status_code == 200, answer.text
        return ToldCase(uuid.UUID(answer.json()["id"]), answer.json()["number"])

    return tell


@pytest_asyncio.fixture
async def routing(service_settings: SettingsFactory) -> AsyncIterator[str]:
    """routing running on a real port (agents' groups and email addresses); yields its URL."""
    async with serve_http(create_routing(service_settings(RoutingSettings))) as url:
        yield url
