"""Outbox rows are written once per transaction, at commit, and never for work a savepoint undid."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.devtools.testing.database import database_work
from omnicase.devtools.testing.plugin import ScratchSchema
from omnicase.devtools.testing.probes import numbered_event
from omnicase.kit.events import CaseUpdated, Envelope
from omnicase.kit.outbox import Outbox
from omnicase.kit.staging import flush_staged

pytestmark = pytest.mark.asyncio


async def _written(schema: ScratchSchema) -> list[tuple[str, int]]:
    async with schema.database.unit_of_work() as session:
        rows = await session.execute(select(schema.outbox.c.key, schema.outbox.c.payload).order_by(schema.outbox.c.id))
        return [(row.key, int(CaseUpdated.parse(Envelope.from_bytes(row.payload)).version)) for row in rows]


async def _add(outbox: Outbox, session: AsyncSession, case_id: uuid.UUID, seq: int) -> None:
    await outbox.add(session, numbered_event(case_id, seq), source="test", subject=str(case_id), key=str(case_id))


class Refused(Exception):
    pass


async def test_a_batch_of_events_is_one_insert_at_commit_in_the_order_added(scratch_schema: ScratchSchema) -> None:
    outbox = Outbox(scratch_schema.outbox)
    first, second = uuid.uuid4(), uuid.uuid4()
    with database_work(scratch_schema.database.engine) as work:
        async with scratch_schema.database.unit_of_work() as session:
            for seq in range(1, 51):
                await _add(outbox, session, first if seq % 2 else second, seq)
            # Nothing is visible before the commit, not even to the transaction itself.
            assert (await session.execute(select(scratch_schema.outbox.c.id))).all() == []

    inserts = [statement for statement in work.statements if statement.startswith("INSERT")]
    assert len(inserts) == 1, inserts
    written = await _written(scratch_schema)
    assert [seq for _, seq in written] == list(range(1, 51))
    assert {key for key, seq in written if seq % 2} == {str(first)}


async def test_events_of_a_savepoint_rolled_back_are_dropped_and_of_one_released_kept(
    scratch_schema: ScratchSchema,
) -> None:
    outbox = Outbox(scratch_schema.outbox)
    case_id = uuid.uuid4()

    async with scratch_schema.database.unit_of_work() as session:
        await _add(outbox, session, case_id, 1)

        async def refused() -> None:
            async with session.begin_nested():
                await _add(outbox, session, case_id, 2)
                async with session.begin_nested():
                    await _add(outbox, session, case_id, 3)  # released, then undone with its parent
                raise Refused

        with pytest.raises(Refused):
            await refused()
        async with session.begin_nested():
            await _add(outbox, session, case_id, 4)
        savepoint = await session.begin_nested()
        await _add(outbox, session, case_id, 5)
        await savepoint.rollback()
        await _add(outbox, session, case_id, 6)

    assert [seq for _, seq in await _written(scratch_schema)] == [1, 4, 6]


async def test_events_of_a_transaction_rolled_back_are_never_written(scratch_schema: ScratchSchema) -> None:
    outbox = Outbox(scratch_schema.outbox)
    case_id = uuid.uuid4()

    async def failing_handler() -> None:
        async with scratch_schema.database.unit_of_work() as session:
            await _add(outbox, session, case_id, 1)
            raise Refused

    with pytest.raises(Refused):
        await failing_handler()
    async with scratch_schema.database.unit_of_work() as session:
        await _add(outbox, session, case_id, 2)

    assert [seq for _, seq in await _written(scratch_schema)] == [2]


async def test_flushing_inside_a_savepoint_never_writes_what_was_staged_before_it(
    scratch_schema: ScratchSchema,
) -> None:
    outbox = Outbox(scratch_schema.outbox)
    case_id = uuid.uuid4()
    async with scratch_schema.database.unit_of_work() as session:
        savepoint = await session.begin_nested()
        await _add(outbox, session, case_id, 1)
        await flush_staged(session)
        assert len((await session.execute(select(scratch_schema.outbox.c.id))).all()) == 1
        await savepoint.rollback()  # the flushed row goes with its savepoint

        await _add(outbox, session, case_id, 2)
        async with session.begin_nested():
            with pytest.raises(RuntimeError, match="before this savepoint"):
                await flush_staged(session)

    assert [seq for _, seq in await _written(scratch_schema)] == [2]
