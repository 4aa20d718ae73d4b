"""The migrations build exactly the tables the code declares (no drift either way)."""

from __future__ import annotations

import pytest

from omnicase.case_core.models import metadata
from omnicase.devtools.testing.schema import schema_drift

pytestmark = pytest.mark.asyncio


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    assert await schema_drift(database_url, metadata) == []
