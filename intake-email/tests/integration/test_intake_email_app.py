"""intake-email starts against real PostgreSQL and the broker and reports itself ready."""

from __future__ import annotations

import pytest

from omnicase.devtools.testing.apps import running
from omnicase.devtools.testing.plugin import SettingsFactory
from omnicase.intake_email.app import create_app
from omnicase.intake_email.settings import IntakeEmailSettings

pytestmark = pytest.mark.asyncio


async def test_intake_email_is_ready_with_its_database_broker_and_relay(service_settings: SettingsFactory) -> None:
    settings = service_settings(IntakeEmailSettings, smtp_port=0)
    async with running(create_app(settings)) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {
            "database": "ok",
            "broker": "ok",
            "outbox_relay": "ok",
            "consumer:intake-email": "ok",
            "smtp_listener": "ok",
        }
        openapi = (await client.get("/openapi.json")).json()
        assert openapi["info"]["title"] == "Omnicase intake-email"
