"""A repository of one table keyed by id (:class:`TableRepository`): its records as stored, what a
missing id answers, unique values, and pages by id that end without an empty last page."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Column, String, Table, Uuid
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.devtools.testing.plugin import ScratchSchema
from omnicase.kit.errors import NotFound
from omnicase.kit.pagination import Page, decode_id_cursor
from omnicase.kit.repository import TableRepository

pytestmark = pytest.mark.asyncio


@dataclass(frozen=True)
class Thing:
    id: uuid.UUID
    name: str


class ThingRepository(TableRepository[Thing]):
    def __init__(self, session: AsyncSession, table: Table) -> None:
        super().__init__(session, table, Page[Thing], lambda row: Thing(row.id, row.name))


class ThingMissing(NotFound):
    slug, title = "thing-not-found", "Thing not found"


async def _table(scratch: ScratchSchema) -> Table:
    table = Table(
        "things",
        scratch.metadata,
        Column("id", Uuid, primary_key=True),
        Column("name", String(50), nullable=False, unique=True),
    )
    async with scratch.database.engine.begin() as connection:
        await connection.run_sync(scratch.metadata.create_all, tables=[table])
    return table


async def test_records_are_inserted_read_changed_and_deleted_as_stored(scratch_schema: ScratchSchema) -> None:
    table = await _table(scratch_schema)
    first, nobody = uuid.uuid4(), uuid.uuid4()
    async with scratch_schema.database.unit_of_work() as session:
        things = ThingRepository(session, table)
        assert await things.insert({"id": first, "name": "kettle"}) == Thing(first, "kettle")
        assert await things.get(first) == Thing(first, "kettle")
        assert await things.update(first, {"name": "teapot"}) == Thing(first, "teapot")
        assert await things.update(nobody, {"name": "ghost"}) is None
        assert await things.get(nobody) is None
        with pytest.raises(ThingMissing):
            await things.get_or_raise(nobody, lambda key: ThingMissing(f"Thing {key} does not exist."))
        assert await things.existing([first, nobody]) == {first}
        assert await things.existing([]) == set()
        assert await things.delete(first) is True
        assert await things.delete(first) is False, "a second delete finds nothing"
        assert await things.get(first) is None


async def test_a_unique_value_is_taken_only_by_another_row(scratch_schema: ScratchSchema) -> None:
    table = await _table(scratch_schema)
    kettle = uuid.uuid4()
    async with scratch_schema.database.unit_of_work() as session:
        things = ThingRepository(session, table)
        await things.insert({"id": kettle, "name": "kettle"})
        assert await things.taken("name", "kettle") is True
        assert await things.taken("name", "kettle", other_than=kettle) is False, "renaming to its own name"
        assert await things.taken("name", "teapot") is False


async def test_pages_follow_ids_and_the_last_full_page_has_no_next_cursor(scratch_schema: ScratchSchema) -> None:
    table = await _table(scratch_schema)
    rows: list[dict[str, Any]] = [{"id": uuid.uuid4(), "name": f"thing {n}"} for n in range(4)]
    async with scratch_schema.database.unit_of_work() as session:
        things = ThingRepository(session, table)
        for row in rows:
            await things.insert(row)
        first = await things.page(None, 2)
        second = await things.page(decode_id_cursor(first.next_cursor), 2)
    ids = sorted(row["id"] for row in rows)
    assert [thing.id for thing in first.items] == ids[:2]
    assert [thing.id for thing in second.items] == ids[2:]
    assert second.next_cursor is None, "no empty last page"
