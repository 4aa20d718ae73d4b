"""Fixtures of reporting's tests: the kit clock moved by the test, a brand no other test uses, and
a scripted history published on the test's own topics as case-core and sla-engine publish it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio

from omnicase.devtools.testing.clock import ManualClock
from omnicase.devtools.testing.plugin import SettingsFactory
from omnicase.kit.bus.producer import EventProducer
from omnicase.kit.clock import set_clock
from omnicase.reporting.settings import ReportingSettings
from omnicase.reporting.testing import Publisher

# Monday 2 March 2026, 09:00 UTC.
START = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture
def clock() -> Iterator[ManualClock]:
    """The kit clock, moved only by the test."""
    manual = ManualClock(START)
    previous = set_clock(manual)
    try:
        yield manual
    finally:
        set_clock(previous)


@pytest.fixture
def brand() -> str:
    """A brand only this test's cases use (the read model is shared by every test of the session)."""
    return f"brand-{uuid.uuid4().hex[:12]}"


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
