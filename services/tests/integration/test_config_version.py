"""Configuration cached per process: reloaded once another transaction changed it, never before."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import Column, Integer, Table, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.devtools.testing.plugin import ScratchSchema
from omnicase.kit.config_version import VersionedCache, config_version_table
from omnicase.ops.migrations import install_config_version

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def settings_table(scratch_schema: ScratchSchema) -> AsyncIterator[Table]:
    """A configuration table ``settings`` (one ``limit`` row) watched by the schema's config_version."""
    table = Table(
        "settings", scratch_schema.metadata, Column("id", Integer, primary_key=True), Column("limit", Integer)
    )
    config_version_table(scratch_schema.metadata)

    def install(connection: Connection) -> None:
        table.create(connection)
        with Operations.context(MigrationContext.configure(connection)):
            install_config_version(scratch_schema.name, ["settings"])

    async with scratch_schema.database.engine.begin() as connection:
        await connection.run_sync(install)
        await connection.execute(table.insert().values(id=1, limit=10))
    yield table


async def _set_limit(scratch_schema: ScratchSchema, table: Table, value: int) -> None:
    async with scratch_schema.database.unit_of_work() as session:
        await session.execute(table.update().values(limit=value))


def _cache(scratch_schema: ScratchSchema, table: Table, *, once_per_transaction: bool) -> VersionedCache[int]:
    async def load(session: AsyncSession, _version: int) -> int:
        return int(await session.scalar(select(table.c.limit)) or 0)

    versions = scratch_schema.metadata.tables[f"{scratch_schema.name}.config_version"]
    return VersionedCache(versions, load, once_per_transaction=once_per_transaction)


async def test_a_change_committed_elsewhere_is_loaded_by_the_next_read_and_only_once(
    scratch_schema: ScratchSchema, settings_table: Table
) -> None:
    cache = _cache(scratch_schema, settings_table, once_per_transaction=False)
    async with scratch_schema.database.unit_of_work() as session:
        assert await cache.current(session) == 10
        assert await cache.current(session) == 10
    assert cache.loads == 1

    await _set_limit(scratch_schema, settings_table, 20)
    async with scratch_schema.database.unit_of_work() as session:
        assert await cache.current(session) == 20
        await session.execute(text("SELECT 1"))
        assert await cache.current(session) == 20
    assert cache.loads == 2


async def test_once_per_transaction_a_batch_sees_one_configuration_and_the_next_batch_the_new_one(
    scratch_schema: ScratchSchema, settings_table: Table
) -> None:
    cache = _cache(scratch_schema, settings_table, once_per_transaction=True)
    reads: list[int] = []
    async with scratch_schema.database.unit_of_work() as batch:
        reads.append(await cache.current(batch))
        # Another replica's API changes the configuration while this batch runs.
        await _set_limit(scratch_schema, settings_table, 30)
        reads.append(await cache.current(batch))
    async with scratch_schema.database.unit_of_work() as next_batch:
        reads.append(await cache.current(next_batch))

    assert reads == [10, 10, 30]
    assert cache.loads == 2
