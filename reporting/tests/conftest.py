"""Fixtures of reporting's tests (the clock and a brand of its own are the devtools plugin's): its
settings, and a scripted history published on the test's own topics as case-core and sla-engine publish it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from omnicase.devtools.testing.plugin import SettingsFactory
from omnicase.kit.bus.producer import EventProducer
from omnicase.reporting.settings import ReportingSettings
from omnicase.reporting.testing import Publisher


@pytest.fixture
def settings(service_settings: SettingsFactory) -> ReportingSettings:
    settings: ReportingSettings = service_settings(ReportingSettings)
    return settings


@pytest_asyncio.fixture
async def publish(kafka_bootstrap: str, suite_topics: str) -> AsyncIterator[Publisher]:
    producer = EventProducer(kafka_bootstrap, client_id="reporting-test")
    await producer.start()
    try:
        yield Publisher(producer, suite_topics)
    finally:
        await producer.stop()
