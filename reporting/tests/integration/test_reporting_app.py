"""reporting starts against real PostgreSQL and the broker, and its migrations build what its models declare."""

from __future__ import annotations

import pytest

from omnicase.devtools.testing.apps import running
from omnicase.devtools.testing.schema import schema_drift
from omnicase.reporting.app import create_app
from omnicase.reporting.models import metadata
from omnicase.reporting.settings import ReportingSettings

pytestmark = pytest.mark.asyncio


async def test_reporting_is_ready_with_its_database_broker_and_consumer(settings: ReportingSettings) -> None:
    # It publishes nothing, so it runs no outbox relay (which would poll its empty outbox).
    async with running(create_app(settings), scopes=frozenset({"reports:read"})) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {
            "database": "ok",
            "broker": "ok",
            "consumer:reporting": "ok",
            "consumer:reporting-calls": "ok",
        }
        assert (await client.get("/openapi.json")).json()["info"]["title"] == "Omnicase reporting"


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    assert await schema_drift(database_url, metadata) == []
