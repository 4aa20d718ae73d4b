"""knowledge starts against real PostgreSQL and the broker and reports itself ready."""

from __future__ import annotations

import pytest

from omnicase.devtools.testing.apps import running
from omnicase.devtools.testing.plugin import SettingsFactory
from omnicase.knowledge.app import create_app
from omnicase.knowledge.settings import KnowledgeSettings

KNOWLEDGE_SCOPES = frozenset({"knowledge:read", "knowledge:write"})

pytestmark = pytest.mark.asyncio


async def test_knowledge_is_ready_with_its_database_broker_and_relay(service_settings: SettingsFactory) -> None:
    async with running(create_app(service_settings(KnowledgeSettings)), scopes=KNOWLEDGE_SCOPES) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": "ok", "broker": "ok", "outbox_relay": "ok"}
        openapi = (await client.get("/openapi.json")).json()
        assert openapi["info"]["title"] == "Omnicase knowledge"
