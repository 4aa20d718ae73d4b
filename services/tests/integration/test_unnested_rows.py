"""Rows of one shape inserted or updated by one statement (:class:`UnnestedRows`), array and
JSON columns included, whatever the number of rows."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import Column, Integer, String, Table, Uuid, select
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from omnicase.devtools.testing.database import database_work
from omnicase.devtools.testing.plugin import ScratchSchema
from omnicase.kit.db import insert_rows, update_rows

pytestmark = pytest.mark.asyncio


async def _table(scratch: ScratchSchema) -> Table:
    table = Table(
        "things",
        scratch.metadata,
        Column("id", Uuid, primary_key=True),
        Column("name", String(50), nullable=False),
        Column("tags", ARRAY(String(20))),
        Column("owners", ARRAY(Uuid), nullable=False, server_default="{}"),
        Column("data", JSONB),
        Column("count", Integer, nullable=False, server_default="0"),
    )
    async with scratch.database.engine.begin() as connection:
        await connection.run_sync(scratch.metadata.create_all, tables=[table])
    return table


async def _rows(scratch: ScratchSchema, table: Table) -> dict[uuid.UUID, dict[str, Any]]:
    async with scratch.database.unit_of_work() as session:
        return {row["id"]: dict(row) for row in (await session.execute(select(table))).mappings()}


async def test_rows_with_array_and_json_columns_are_inserted_by_one_execution_in_their_order(
    scratch_schema: ScratchSchema,
) -> None:
    table = await _table(scratch_schema)
    owner = uuid.uuid4()
    rows: list[dict[str, Any]] = [
        {"id": uuid.uuid4(), "name": "two dimensions", "tags": ["b", "a", "c"], "owners": [owner], "data": [1, 2]},
        {"id": uuid.uuid4(), "name": "ragged", "tags": [], "owners": [], "data": {"k": "v"}},
        {"id": uuid.uuid4(), "name": "nulls", "tags": None, "owners": [owner, owner], "data": None},
        {"id": uuid.uuid4(), "name": "quotes", "tags": ['a "b"', "c,d", "{e}"], "owners": [], "data": "text"},
    ]
    with database_work(scratch_schema.database.engine) as work:
        async with scratch_schema.database.unit_of_work() as session:
            await session.execute(*insert_rows(table, rows))

    assert work.executions == 1, work.statements
    stored = await _rows(scratch_schema, table)
    for row in rows:
        assert {name: stored[row["id"]][name] for name in row} == row


async def test_an_update_sets_every_row_by_its_key_and_adds_to_increments_in_one_execution(
    scratch_schema: ScratchSchema,
) -> None:
    table = await _table(scratch_schema)
    ids = [uuid.uuid4() for _ in range(3)]
    async with scratch_schema.database.unit_of_work() as session:
        await session.execute(
            *insert_rows(
                table, [{"id": id_, "name": f"n{index}", "count": 10 * index} for index, id_ in enumerate(ids)]
            )
        )

    changes: list[dict[str, Any]] = [
        {"id": ids[0], "name": "first", "tags": ["x", "y"], "data": {"a": 1}, "count": 5},
        {"id": ids[2], "name": "third", "tags": None, "data": None, "count": 7},
        {"id": uuid.uuid4(), "name": "nobody", "tags": [], "data": {}, "count": 1},
    ]
    with database_work(scratch_schema.database.engine) as work:
        async with scratch_schema.database.unit_of_work() as session:
            await session.execute(*update_rows(table, ("id",), changes, add=("count",)))

    assert work.executions == 1, work.statements
    stored = await _rows(scratch_schema, table)
    assert len(stored) == 3
    assert {name: stored[ids[0]][name] for name in ("name", "tags", "data", "count")} == {
        "name": "first",
        "tags": ["x", "y"],
        "data": {"a": 1},
        "count": 5,
    }
    assert (stored[ids[1]]["name"], stored[ids[1]]["count"]) == ("n1", 10)
    assert {name: stored[ids[2]][name] for name in ("name", "tags", "data", "count")} == {
        "name": "third",
        "tags": None,
        "data": None,
        "count": 27,
    }
