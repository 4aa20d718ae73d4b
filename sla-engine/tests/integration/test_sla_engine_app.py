"""sla-engine starts against real PostgreSQL and the broker and reports itself ready."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

from omnicase.kit.clock import ManualClock
from omnicase.kit.db import Database
from omnicase.kit.testing.apps import running
from omnicase.kit.testing.plugin import SettingsFactory, eventually
from omnicase.sla_engine.app import create_app
from omnicase.sla_engine.housekeeping import HOUSEKEEPING_KEY
from omnicase.sla_engine.models import inbox, timers
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


async def test_old_inbox_ids_are_forgotten_every_hour(service_settings: SettingsFactory, clock: ManualClock) -> None:
    settings = service_settings(SlaEngineSettings, scheduler_poll_interval=0.05, inbox_retention_hours=24)
    now = clock.now()
    old, recent = uuid.uuid4(), uuid.uuid4()
    app = create_app(settings)
    async with running(app):
        database: Database = app.state.database
        async with database.unit_of_work() as session:
            # Earlier tests may have run it on another clock: due now on this one.
            await session.execute(
                update(timers).where(timers.c.key == HOUSEKEEPING_KEY).values(due_at=now, locked_until=None)
            )
            await session.execute(
                inbox.insert(),
                [
                    {"consumer": "sla-engine", "event_id": old, "processed_at": now - timedelta(hours=25)},
                    {"consumer": "sla-engine", "event_id": recent, "processed_at": now - timedelta(hours=23)},
                ],
            )

        async def remembered() -> set[uuid.UUID]:
            async with database.unit_of_work() as session:
                rows = await session.scalars(select(inbox.c.event_id).where(inbox.c.event_id.in_([old, recent])))
                return set(rows.all())

        async def pruned() -> bool:
            return await remembered() == {recent}

        await eventually(pruned, message="old inbox id forgotten")
        async with database.unit_of_work() as session:
            due = await session.scalar(select(timers.c.due_at).where(timers.c.key == HOUSEKEEPING_KEY))
        assert due == now + timedelta(hours=1)
        async with database.unit_of_work() as session:
            await session.execute(delete(inbox).where(inbox.c.event_id == recent))
