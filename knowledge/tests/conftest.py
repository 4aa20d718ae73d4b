"""Fixtures of knowledge's tests: a client through the gateway's identity, the real case-core it asks
(over HTTP), brands no other test uses, made in that case-core."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
import pytest_asyncio

from omnicase.case_core.app import create_app as create_case_core_app
from omnicase.case_core.settings import CaseCoreSettings
from omnicase.devtools.testing.apps import GatewayIdentity, running, served
from omnicase.devtools.testing.plugin import SettingsFactory
from omnicase.knowledge.app import create_app
from omnicase.knowledge.settings import KnowledgeSettings

# An admin through the gateway (people get their role's scopes); agents only read.
WRITER_SCOPES = frozenset({"knowledge:read", "knowledge:write"})
READER_SCOPES = frozenset({"knowledge:read"})


CASE_SCOPES = frozenset({"cases:read", "cases:write", "contacts:read", "contacts:write"})


@pytest_asyncio.fixture
async def desk(service_settings: SettingsFactory) -> AsyncIterator[httpx.AsyncClient]:
    """The real case-core, served over HTTP (its brands, its cases); the client is an admin of it."""
    async with served(create_case_core_app(service_settings(CaseCoreSettings)), scopes=CASE_SCOPES) as client:
        # Slow beside knowledge's start in this one process (see settings below), never wrong.
        client.timeout = httpx.Timeout(30)
        yield client


@pytest.fixture
def settings(service_settings: SettingsFactory, desk: httpx.AsyncClient) -> KnowledgeSettings:
    # case-core shares this process, and knowledge's start loads language models in a thread: its
    # answers may take seconds here, as they never would beside each other in production.
    settings: KnowledgeSettings = service_settings(
        KnowledgeSettings, case_core_url=str(desk.base_url), case_core_timeout_seconds=30
    )
    return settings


NewBrand = Callable[[], Awaitable[str]]


@pytest.fixture
def new_brand(desk: httpx.AsyncClient) -> NewBrand:
    """``await new_brand()``: the slug of a brand only this test uses, made in case-core (sections
    and articles may name only real brands)."""

    async def make() -> str:
        slug = f"brand-{uuid.uuid4().hex[:12]}"
        created = await desk.post("/api/v1/brands", json={"name": f"Brand {slug}", "slug": slug})
        assert created.status_code == 201, created.text
        return slug

    return make


@pytest_asyncio.fixture
async def brand(new_brand: NewBrand) -> str:
    return await new_brand()


@pytest_asyncio.fixture
async def client(settings: KnowledgeSettings, brand: str) -> AsyncIterator[httpx.AsyncClient]:
    # The test's brand is made before knowledge starts (its start loads language models, which slows
    # the case-core served beside it in this process).
    async with running(create_app(settings), scopes=WRITER_SCOPES) as client:
        yield client


@pytest.fixture
def agent(settings: KnowledgeSettings) -> GatewayIdentity:
    """Pass as ``auth=`` to call as an agent, who reads the knowledge base but does not write it."""
    return GatewayIdentity(settings.internal_secret, role="agent", scopes=READER_SCOPES, subject="test-agent")
