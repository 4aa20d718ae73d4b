"""Fixtures for the kit's integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from omnicase.devtools.testing.plugin import ScratchSchema
from omnicase.devtools.testing.probes import Effects, create_effects
from omnicase.kit.bus.producer import EventProducer


@pytest_asyncio.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[EventProducer]:
    producer = EventProducer(kafka_bootstrap, client_id="kit-tests")
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


@pytest_asyncio.fixture
async def effects(scratch_schema: ScratchSchema) -> Effects:
    return await create_effects(scratch_schema)
