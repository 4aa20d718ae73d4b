"""Fixtures of knowledge's tests: a client through the gateway's identity, brands no other test uses."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from omnicase.devtools.testing.apps import GatewayIdentity, running
from omnicase.devtools.testing.plugin import SettingsFactory
from omnicase.knowledge.app import create_app
from omnicase.knowledge.settings import KnowledgeSettings

# An admin through the gateway (people get their role's scopes); agents only read.
WRITER_SCOPES = frozenset({"knowledge:read", "knowledge:write"})
READER_SCOPES = frozenset({"knowledge:read"})


@pytest.fixture
def settings(service_settings: SettingsFactory) -> KnowledgeSettings:
    settings: KnowledgeSettings = service_settings(KnowledgeSettings)
    return settings


@pytest_asyncio.fixture
async def client(settings: KnowledgeSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(settings), scopes=WRITER_SCOPES) as client:
        yield client


@pytest.fixture
def agent(settings: KnowledgeSettings) -> GatewayIdentity:
    """Pass as ``auth=`` to call as an agent, who reads the knowledge base but does not write it."""
    return GatewayIdentity(settings.internal_secret, role="agent", scopes=READER_SCOPES, subject="test-agent")
