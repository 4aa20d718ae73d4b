"""case-core starts against real PostgreSQL and the broker and reports itself ready."""

from __future__ import annotations

import pytest

from omnicase.case_core.app import create_app
from omnicase.case_core.settings import CaseCoreSettings
from omnicase.kit.testing.apps import running

pytestmark = pytest.mark.asyncio


async def test_case_core_is_ready_with_its_database_broker_and_relay(
    database_url: str, kafka_bootstrap: str, topic_prefix: str
) -> None:
    settings = CaseCoreSettings(
        database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap, topic_prefix=topic_prefix
    )
    async with running(create_app(settings)) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": "ok", "broker": "ok", "outbox_relay": "ok"}
        openapi = (await client.get("/openapi.json")).json()
        assert openapi["info"]["title"] == "Omnicase case-core"
