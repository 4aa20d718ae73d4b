"""Test probes for consumers and relays: an effects table, numbered events, raw topic reads."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from sqlalchemy import Column, Integer, MetaData, String, Table, Uuid, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.devtools.testing.plugin import ScratchSchema
from omnicase.kit.bus.batch import Batch
from omnicase.kit.events import CaseUpdated, Envelope, FieldChange


@dataclass
class Effects:
    """A table a test handler writes to: what a consumer really applied."""

    table: Table

    async def apply(self, session: AsyncSession, batch: Batch) -> None:
        """A consumer's batch handler recording every event it is handed."""
        for received in batch:
            await self.record(session, received.envelope)

    async def record(self, session: AsyncSession, envelope: Envelope) -> None:
        data = CaseUpdated.parse(envelope)
        await session.execute(
            self.table.insert().values(event_id=envelope.id, key=str(data.case_id), seq=int(data.changes["seq"].new))
        )

    async def rows(self, schema: ScratchSchema) -> list[tuple[uuid.UUID, str, int]]:
        async with schema.database.unit_of_work() as session:
            result = await session.execute(
                select(self.table.c.event_id, self.table.c.key, self.table.c.seq).order_by(self.table.c.id)
            )
            return [(row.event_id, row.key, row.seq) for row in result]

    async def count(self, schema: ScratchSchema) -> int:
        async with schema.database.unit_of_work() as session:
            return int(await session.scalar(text(f'SELECT count(*) FROM "{schema.name}".effects')) or 0)


def effects_table(schema: str) -> Table:
    # No unique constraint on purpose: a duplicate the inbox failed to drop shows up here.
    return Table(
        "effects",
        MetaData(schema=schema),
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("event_id", Uuid, nullable=False),
        Column("key", String, nullable=False),
        Column("seq", Integer, nullable=False),
    )


async def create_effects(scratch_schema: ScratchSchema) -> Effects:
    table = effects_table(scratch_schema.name)
    async with scratch_schema.database.engine.begin() as connection:
        await connection.run_sync(table.create)
    return Effects(table)


def numbered_event(case_id: uuid.UUID, seq: int) -> CaseUpdated:
    return CaseUpdated(case_id=case_id, version=seq, changes={"seq": FieldChange(old=seq - 1, new=seq)}, actor="test")


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    expect: int,
    within: float = 20.0,
    keep: Callable[[ConsumerRecord], bool] | None = None,
) -> list[ConsumerRecord]:
    """Every record of ``topic`` from the start, waiting until ``expect`` arrived (and a little more).

    ``keep`` narrows it to the records a test is about, where other tests' work may reach the
    same topic (a republisher stages every pending row of the shared database)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False, group_id=None
    )
    await consumer.start()
    records: list[ConsumerRecord] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        quiet_until: float | None = None
        while loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for partition_records in batch.values():
                records.extend(record for record in partition_records if keep is None or keep(record))
            if len(records) >= expect:
                # Linger briefly so an unexpected extra record would be seen too.
                quiet_until = quiet_until or loop.time() + 0.5
                if loop.time() >= quiet_until:
                    break
    finally:
        await consumer.stop()
    return records


def of_intake_messages(*intake_ids: uuid.UUID | str) -> Callable[[ConsumerRecord], bool]:
    """``read_topic``'s ``keep`` for the records about these inbound messages (received or held): an
    intake's republisher stages every pending message of the shared test database, other tests'
    too, onto the topic of the test that runs it."""
    wanted = {str(intake_id) for intake_id in intake_ids}

    def keep(record: ConsumerRecord) -> bool:
        data = json.loads(record.value)["data"]
        return str(data.get("intake_id") or data["message"]["intake_id"]) in wanted

    return keep
