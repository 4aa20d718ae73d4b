"""The pool after PostgreSQL dropped its connections (a restart): one failure at most, then it recovers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from omnicase.kit.db import Database, create_engine

pytestmark = pytest.mark.asyncio


@asynccontextmanager
async def _database(url: str, *, ping_after_idle_seconds: float) -> AsyncIterator[tuple[Database, str]]:
    name = f"pool-test-{uuid.uuid4().hex[:8]}"
    database = Database(
        create_engine(url, pool_size=2, application_name=name, ping_after_idle_seconds=ping_after_idle_seconds)
    )
    try:
        yield database, name
    finally:
        await database.dispose()


async def _select_one(database: Database) -> int:
    async with database.unit_of_work() as session:
        return int((await session.execute(text("SELECT 1"))).scalar_one())


async def _both_connections_used(database: Database) -> None:
    async def hold() -> None:
        async with database.unit_of_work() as session:
            await session.execute(text("SELECT pg_sleep(0.05)"))

    await asyncio.gather(hold(), hold())


async def _terminate(url: str, application_name: str) -> int:
    admin = Database(create_engine(url, pool_size=1))
    try:
        async with admin.unit_of_work() as session:
            killed = await session.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"),
                {"name": application_name},
            )
            return len(killed.all())
    finally:
        await admin.dispose()


async def test_connections_dropped_while_idle_are_replaced_before_use(database_url: str) -> None:
    async with _database(database_url, ping_after_idle_seconds=0) as (database, name):
        await _both_connections_used(database)
        assert await _terminate(database_url, name) == 2
        assert await _select_one(database) == 1
        await _both_connections_used(database)


async def test_connections_dropped_while_busy_fail_one_transaction_then_every_one_is_replaced(
    database_url: str,
) -> None:
    async with _database(database_url, ping_after_idle_seconds=3600) as (database, name):
        await _both_connections_used(database)
        assert await _terminate(database_url, name) == 2
        with pytest.raises(DBAPIError) as failed:
            await _select_one(database)
        assert failed.value.connection_invalidated
        # The other pooled connection, dead too, is not handed out again: the pool was invalidated.
        await _both_connections_used(database)
        assert await _select_one(database) == 1
