"""sla-engine starts against real PostgreSQL and the broker and reports itself ready."""

from __future__ import annotations

import pytest

from omnicase.devtools.testing.apps import running
from omnicase.devtools.testing.plugin import SettingsFactory
from omnicase.sla_engine.app import create_app
from omnicase.sla_engine.settings import SlaEngineSettings

# Through the gateway, as an admin (people get their role's scopes).
SLA_SCOPES = frozenset({"sla:read", "sla:write"})

pytestmark = pytest.mark.asyncio


async def test_sla_engine_is_ready_with_its_database_broker_and_relay(service_settings: SettingsFactory) -> None:
    settings = service_settings(SlaEngineSettings)
    async with running(create_app(settings), scopes=SLA_SCOPES) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {
            "database": "ok",
            "broker": "ok",
            "outbox_relay": "ok",
            "consumer:sla-engine": "ok",
            "timer_worker": "ok",
        }
        openapi = (await client.get("/openapi.json")).json()
        assert openapi["info"]["title"] == "Omnicase sla-engine"
        operations = {
            operation["operationId"]
            for path in openapi["paths"].values()
            for operation in path.values()
            if isinstance(operation, dict) and "operationId" in operation
        }
        assert {"create_sla_policy", "get_case_sla", "get_sla_attainment", "create_automation"} <= operations
