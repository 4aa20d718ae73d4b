"""Fixtures of sla-engine's tests: a driven clock and names no other test uses."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from omnicase.devtools.testing.clock import ManualClock
from omnicase.kit.clock import set_clock

# A Monday, 09:00 UTC: tests reason in whole office hours from here.
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


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
    """A brand only this test's cases and policies use (policies are global, and API tests commit)."""
    return f"brand-{uuid.uuid4().hex[:12]}"
