"""intake-email starts against real PostgreSQL and the broker and reports itself ready."""

from __future__ import annotations

import pytest

from omnicase.devtools.testing.apps import assert_ready, running
from omnicase.devtools.testing.plugin import SettingsFactory
from omnicase.intake_email.app import create_app
from omnicase.intake_email.settings import IntakeEmailSettings

pytestmark = pytest.mark.asyncio


async def test_intake_email_is_ready_with_its_database_broker_and_relay(service_settings: SettingsFactory) -> None:
    settings = service_settings(IntakeEmailSettings, smtp_port=0)
    async with running(create_app(settings)) as client:
        await assert_ready(client, "intake-email", "consumer:intake-email", "smtp_listener")
