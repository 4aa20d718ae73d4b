"""routing starts against real PostgreSQL and the broker and reports itself ready."""

from __future__ import annotations

import pytest

from omnicase.kit.testing.apps import running
from omnicase.routing.app import create_app
from omnicase.routing.settings import RoutingSettings

pytestmark = pytest.mark.asyncio


async def test_routing_is_ready_with_its_database_broker_and_relay(
    database_url: str, kafka_bootstrap: str, topic_prefix: str
) -> None:
    settings = RoutingSettings(
        database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap, topic_prefix=topic_prefix
    )
    async with running(create_app(settings)) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": "ok", "broker": "ok", "outbox_relay": "ok"}
        openapi = (await client.get("/openapi.json")).json()
        assert openapi["info"]["title"] == "Omnicase routing"
