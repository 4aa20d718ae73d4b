"""Migrations against models: what a service's migrated schema and its declared tables disagree on."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from omnicase.kit.db import create_engine


async def schema_drift(database_url: str, metadata: MetaData) -> list[Any]:
    """Alembic's differences between the migrated database and ``metadata``, in ``metadata``'s schema
    alone (no drift either way is an empty list)."""
    schema = metadata.schema

    def diff(connection: Connection) -> list[Any]:
        def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
            return type_ != "table" or getattr(obj, "schema", None) == schema

        context = MigrationContext.configure(
            connection,
            opts={
                "include_schemas": True,
                "include_name": lambda name, type_, parent: type_ != "schema" or name == schema,
                "include_object": include,
                "compare_type": True,
            },
        )
        return [item for item in compare_metadata(context, metadata) if "alembic_version" not in repr(item)]

    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(diff)
    finally:
        await engine.dispose()
