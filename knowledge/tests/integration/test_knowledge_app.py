"""knowledge starts against real PostgreSQL and the broker and reports itself ready."""

from __future__ import annotations

import pytest

from omnicase.devtools.testing.apps import running
from omnicase.devtools.testing.plugin import SettingsFactory, eventually
from omnicase.knowledge.app import create_app
from omnicase.knowledge.settings import KnowledgeSettings

KNOWLEDGE_SCOPES = frozenset({"knowledge:read", "knowledge:write"})

pytestmark = pytest.mark.asyncio


async def test_knowledge_is_ready_with_its_database_broker_relay_and_consumer(
    service_settings: SettingsFactory,
) -> None:
    async with running(create_app(service_settings(KnowledgeSettings)), scopes=KNOWLEDGE_SCOPES) as client:

        async def answers_ready() -> bool:
            return (await client.get("/readyz")).status_code == 200

        # At start it loads the language models of the articles earlier tests wrote, which may slow
        # its first answers on a busy machine.
        await eventually(answers_ready, within=60, message="ready")
        ready = await client.get("/readyz")
        assert ready.json()["checks"] == {
            "database": "ok",
            "broker": "ok",
            "outbox_relay": "ok",
            "consumer:knowledge": "ok",
        }
        openapi = (await client.get("/openapi.json")).json()
        assert openapi["info"]["title"] == "Omnicase knowledge"
