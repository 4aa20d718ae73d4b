"""intake-web starts against real PostgreSQL and the broker and reports itself ready."""

from __future__ import annotations

import pytest

from omnicase.devtools.testing.apps import assert_ready, running
from omnicase.devtools.testing.plugin import SettingsFactory
from omnicase.devtools.testing.schema import schema_drift
from omnicase.intake_web.app import create_app
from omnicase.intake_web.models import metadata
from omnicase.intake_web.settings import IntakeWebSettings

pytestmark = pytest.mark.asyncio


async def test_intake_web_is_ready_with_its_database_broker_and_relay(service_settings: SettingsFactory) -> None:
    settings = service_settings(IntakeWebSettings)
    async with running(create_app(settings)) as client:
        await assert_ready(client, "intake-web", "consumer:intake-web")


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    assert await schema_drift(database_url, metadata) == []
