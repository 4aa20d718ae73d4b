"""routing starts against real PostgreSQL and the broker and reports itself ready."""

from __future__ import annotations

import pytest

from omnicase.devtools.testing.apps import assert_ready, running
from omnicase.devtools.testing.plugin import SettingsFactory
from omnicase.routing.app import create_app
from omnicase.routing.settings import RoutingSettings

pytestmark = pytest.mark.asyncio


async def test_routing_is_ready_with_its_database_broker_and_relay(service_settings: SettingsFactory) -> None:
    settings = service_settings(RoutingSettings)
    async with running(create_app(settings)) as client:
        await assert_ready(client, "routing", "consumer:routing", "consumer:routing-voice", "timer_worker")
