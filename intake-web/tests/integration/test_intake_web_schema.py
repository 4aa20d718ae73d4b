"""The migrations build exactly the tables the code declares (no drift either way)."""

from __future__ import annotations

import pytest

from omnicase.devtools.testing.schema import schema_drift
from omnicase.intake_web.models import metadata

pytestmark = pytest.mark.asyncio


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    assert await schema_drift(database_url, metadata) == []
