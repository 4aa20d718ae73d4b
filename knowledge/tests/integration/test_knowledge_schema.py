"""The migrations build exactly the tables the code declares (no drift either way)."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from omnicase.kit.db import create_engine
from omnicase.knowledge.models import metadata

pytestmark = pytest.mark.asyncio


def _diff(connection: Connection) -> list[Any]:
    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        return type_ != "table" or getattr(obj, "schema", None) == "knowledge"

    context = MigrationContext.configure(
        connection,
        opts={
            "include_schemas": True,
            "include_name": lambda name, type_, parent: type_ != "schema" or name == "knowledge",
            "include_object": include,
            "compare_type": True,
        },
    )
    return [item for item in compare_metadata(context, metadata) if "alembic_version" not in repr(item)]


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            diff = await connection.run_sync(_diff)
    finally:
        await engine.dispose()
    assert diff == []
