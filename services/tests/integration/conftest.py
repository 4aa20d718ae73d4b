"""Fixtures for the kit's integration tests."""

from __future__ import annotations

import pytest_asyncio

from omnicase.devtools.testing.plugin import ScratchSchema
from omnicase.devtools.testing.probes import Effects, create_effects


@pytest_asyncio.fixture
async def effects(scratch_schema: ScratchSchema) -> Effects:
    return await create_effects(scratch_schema)
