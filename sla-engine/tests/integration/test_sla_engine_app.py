"""sla-engine starts against real PostgreSQL and the broker and reports itself ready."""

from __future__ import annotations

import pytest

from omnicase.devtools.testing.apps import assert_ready, running
from omnicase.devtools.testing.plugin import SettingsFactory
from omnicase.sla_engine.app import create_app
from omnicase.sla_engine.settings import SlaEngineSettings

# Through the gateway, as an admin (people get their role's scopes).
SLA_SCOPES = frozenset({"sla:read", "sla:write"})

pytestmark = pytest.mark.asyncio


async def test_sla_engine_is_ready_with_its_database_broker_and_relay(service_settings: SettingsFactory) -> None:
    settings = service_settings(SlaEngineSettings)
    async with running(create_app(settings), scopes=SLA_SCOPES) as client:
        openapi = await assert_ready(client, "sla-engine", "consumer:sla-engine", "timer_worker")
        operations = {
            operation["operationId"]
            for path in openapi["paths"].values()
            for operation in path.values()
            if isinstance(operation, dict) and "operationId" in operation
        }
        assert {"create_sla_policy", "get_case_sla", "get_sla_attainment", "create_automation"} <= operations
