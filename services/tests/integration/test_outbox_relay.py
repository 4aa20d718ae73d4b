"""The outbox relay against real PostgreSQL and the real broker."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict

import pytest
from aiokafka import ConsumerRecord
from aiokafka.structs import RecordMetadata
from prometheus_client import REGISTRY
from sqlalchemy import func, insert, select

from omnicase.devtools.testing.database import database_work
from omnicase.devtools.testing.plugin import ScratchSchema, eventually
from omnicase.devtools.testing.probes import Effects, numbered_event, read_topic
from omnicase.kit.bus.consumer import ConsumerConfig, EventConsumer
from omnicase.kit.bus.producer import EventProducer, Headers
from omnicase.kit.events import CaseUpdated, Envelope
from omnicase.kit.inbox import Inbox
from omnicase.kit.outbox import Outbox, OutboxRelay
from omnicase.kit.topics import Topic, physical

pytestmark = pytest.mark.asyncio


def _sequences(records: list[ConsumerRecord]) -> dict[str, list[int]]:
    by_key: dict[str, list[int]] = defaultdict(list)
    for record in records:
        data = CaseUpdated.parse(Envelope.from_bytes(record.value))
        by_key[record.key.decode()].append(int(data.changes["seq"].new))
    return by_key


async def _write_key(schema: ScratchSchema, outbox: Outbox, case_id: uuid.UUID, count: int) -> None:
    # One transaction per event, as a service writes one per request.
    for seq in range(1, count + 1):
        async with schema.database.unit_of_work() as session:
            await outbox.add(
                session, numbered_event(case_id, seq), source="test", subject=str(case_id), key=str(case_id)
            )


async def _unpublished(schema: ScratchSchema) -> int:
    async with schema.database.unit_of_work() as session:
        table = schema.outbox
        return int(await session.scalar(select(func.count()).where(table.c.published_at.is_(None))) or 0)


async def test_relay_publishes_every_row_once_in_key_order(
    scratch_schema: ScratchSchema, producer: EventProducer, kafka_bootstrap: str, suite_topics: str
) -> None:
    outbox = Outbox(scratch_schema.outbox)
    relay = OutboxRelay(
        scratch_schema.database, producer, scratch_schema.outbox, topic_prefix=suite_topics, poll_interval=0.05
    )
    relay.start()
    keys = [uuid.uuid4() for _ in range(8)]
    try:
        await asyncio.gather(*(_write_key(scratch_schema, outbox, key, 25) for key in keys))
        await eventually(lambda: _unpublished_is_zero(scratch_schema), message="outbox drained")
    finally:
        await relay.stop()

    records = await read_topic(kafka_bootstrap, physical(Topic.CASE_EVENTS, suite_topics), expect=200)
    assert len(records) == 200
    assert _sequences(records) == {str(key): list(range(1, 26)) for key in keys}


async def _unpublished_is_zero(schema: ScratchSchema) -> bool:
    return await _unpublished(schema) == 0


async def test_relay_never_skips_a_row_whose_transaction_committed_late(
    scratch_schema: ScratchSchema, producer: EventProducer, kafka_bootstrap: str, suite_topics: str
) -> None:
    outbox = Outbox(scratch_schema.outbox)
    relay = OutboxRelay(
        scratch_schema.database, producer, scratch_schema.outbox, topic_prefix=suite_topics, poll_interval=0.05
    )
    slow_case, fast_case = uuid.uuid4(), uuid.uuid4()
    relay.start()
    try:
        # The slow writer takes the lower id first and holds its transaction open...
        async with scratch_schema.database.unit_of_work() as slow:
            await outbox.add(slow, numbered_event(slow_case, 1), source="test", subject="s", key=str(slow_case))
            # ...while a later writer (higher id) commits and gets published.
            await _write_key(scratch_schema, outbox, fast_case, 3)
            await eventually(lambda: _fast_published(scratch_schema, fast_case), message="fast rows published")
        # Now the slow transaction has committed: its lower id must still go out.
        await eventually(lambda: _unpublished_is_zero(scratch_schema), message="late row published")
    finally:
        await relay.stop()

    records = await read_topic(kafka_bootstrap, physical(Topic.CASE_EVENTS, suite_topics), expect=4)
    assert _sequences(records) == {str(fast_case): [1, 2, 3], str(slow_case): [1]}


async def _fast_published(schema: ScratchSchema, case_id: uuid.UUID) -> bool:
    async with schema.database.unit_of_work() as session:
        table = schema.outbox
        pending = await session.scalar(
            select(func.count()).where(table.c.key == str(case_id), table.c.published_at.is_(None))
        )
        return pending == 0


async def test_two_relays_share_the_shards_and_keep_key_order(
    scratch_schema: ScratchSchema, producer: EventProducer, kafka_bootstrap: str, suite_topics: str
) -> None:
    outbox = Outbox(scratch_schema.outbox)
    relays = [
        OutboxRelay(
            scratch_schema.database,
            producer,
            scratch_schema.outbox,
            topic_prefix=suite_topics,
            poll_interval=0.05,
            lock_refresh_interval=0.2,
        )
        for _ in range(2)
    ]
    for relay in relays:
        relay.start()
    keys = [uuid.uuid4() for _ in range(6)]
    try:
        await eventually(lambda: _all_shards_owned(relays), message="shards owned")
        assert not relays[0].owned & relays[1].owned, "a shard must have one publisher at a time"
        first_half = asyncio.gather(*(_write_key(scratch_schema, outbox, key, 10) for key in keys))
        await first_half
        # The owner of every shard dies; the standby takes over and finishes.
        owner = relays[0] if relays[0].owned else relays[1]
        await owner.stop()
        await asyncio.gather(*(_write_key_from(scratch_schema, outbox, key, 11, 20) for key in keys))
        await eventually(lambda: _unpublished_is_zero(scratch_schema), message="outbox drained after failover")
    finally:
        for relay in relays:
            await relay.stop()

    records = await read_topic(kafka_bootstrap, physical(Topic.CASE_EVENTS, suite_topics), expect=120)
    sequences = _sequences(records)
    for key in keys:
        seen = sequences[str(key)]
        # At least once across a failover, and never out of order.
        assert sorted(set(seen)) == list(range(1, 21))
        assert seen == sorted(seen)


async def _all_shards_owned(relays: list[OutboxRelay]) -> bool:
    return len(relays[0].owned | relays[1].owned) == relays[0].shards


async def _write_key_from(schema: ScratchSchema, outbox: Outbox, case_id: uuid.UUID, first: int, last: int) -> None:
    for seq in range(first, last + 1):
        async with schema.database.unit_of_work() as session:
            await outbox.add(
                session, numbered_event(case_id, seq), source="test", subject=str(case_id), key=str(case_id)
            )


class _CrashAfterPublish:
    """A producer whose process 'dies' right after the broker acknowledged a batch."""

    def __init__(self, real: EventProducer) -> None:
        self.real = real
        self.crashes = 0

    async def enqueue(
        self, topic: str, value: bytes, *, key: bytes | None, headers: Headers | None = None
    ) -> asyncio.Future[RecordMetadata]:
        ack = await self.real.enqueue(topic, value, key=key, headers=headers)

        async def acknowledged_then_crash() -> RecordMetadata:
            await ack
            self.crashes += 1
            raise RuntimeError("simulated crash between publish and mark-sent")

        return asyncio.ensure_future(acknowledged_then_crash())


async def test_crash_between_publish_and_mark_sent_duplicates_only_what_the_inbox_drops(
    scratch_schema: ScratchSchema,
    producer: EventProducer,
    kafka_bootstrap: str,
    suite_topics: str,
    effects: Effects,
) -> None:
    outbox = Outbox(scratch_schema.outbox)
    case_id = uuid.uuid4()
    await _write_key(scratch_schema, outbox, case_id, 5)

    crashing = OutboxRelay(
        scratch_schema.database,
        _CrashAfterPublish(producer),
        scratch_schema.outbox,
        topic_prefix=suite_topics,
    )
    crashing.owned = set(range(crashing.shards))
    with pytest.raises(RuntimeError, match="simulated crash"):
        await crashing.publish_once()
    assert await _unpublished(scratch_schema) == 5, "nothing may be marked sent by the crashed relay"

    relay = OutboxRelay(scratch_schema.database, producer, scratch_schema.outbox, topic_prefix=suite_topics)
    relay.owned = set(range(relay.shards))
    assert await relay.publish_once() == 5

    topic = physical(Topic.CASE_EVENTS, suite_topics)
    records = await read_topic(kafka_bootstrap, topic, expect=10)
    assert len(records) == 10, "each event is on the topic twice"

    consumer = EventConsumer(
        ConsumerConfig(group="effects", topics=[Topic.CASE_EVENTS]),
        effects.apply,
        database=scratch_schema.database,
        inbox=Inbox(scratch_schema.inbox),
        producer=producer,
        bootstrap_servers=kafka_bootstrap,
        topic_prefix=suite_topics,
    )
    await consumer.start()
    try:
        await eventually(lambda: _effects_count_is(effects, scratch_schema, 5), message="5 effects")
        await asyncio.sleep(0.5)  # time for a wrongly applied duplicate to show up
    finally:
        await consumer.stop()
    rows = await effects.rows(scratch_schema)
    assert [seq for _, _, seq in rows] == [1, 2, 3, 4, 5]


async def _effects_count_is(effects: Effects, schema: ScratchSchema, expected: int) -> bool:
    return await effects.count(schema) >= expected


async def test_an_idle_relay_polls_with_one_statement_alone_and_a_row_of_another_process_still_goes_out(
    scratch_schema: ScratchSchema, producer: EventProducer, kafka_bootstrap: str, suite_topics: str
) -> None:
    relay = OutboxRelay(
        scratch_schema.database, producer, scratch_schema.outbox, topic_prefix=suite_topics, poll_interval=0.05
    )
    relay.start()
    try:
        await eventually(lambda: _owns_shards(relay), message="shards owned")
        # The janitor's transaction runs once right after the shards are won (then once a minute):
        # the window below starts after it, so it holds the polls alone.
        await eventually(lambda: _janitor_ran(relay), message="the first janitor run")
        with database_work(scratch_schema.database.engine) as recorded:
            await asyncio.sleep(0.5)
        polls = recorded.named(f"outbox-relay-{relay.schema}")
        # About ten polls, each one statement run alone: no batch transaction while nothing waits.
        assert polls.alone >= 3, polls
        assert polls.transactions == 0, polls
        # A row written by another process wakes nothing here: the next poll finds and publishes it.
        case_id = uuid.uuid4()
        async with scratch_schema.database.sessions() as session, session.begin():
            await session.execute(
                insert(scratch_schema.outbox).values(
                    shard=0,
                    topic=Topic.CASE_EVENTS.value,
                    key=str(case_id),
                    event_id=uuid.uuid4(),
                    event_type=CaseUpdated.event_type,
                    payload=numbered_event(case_id, 1).envelope(source="test", subject=str(case_id)).to_bytes(),
                    headers=[],
                )
            )
        await eventually(lambda: _unpublished_is_zero(scratch_schema), message="the other process's row published")
    finally:
        await relay.stop()
    records = await read_topic(kafka_bootstrap, physical(Topic.CASE_EVENTS, suite_topics), expect=1)
    assert _sequences(records) == {str(case_id): [1]}


async def _owns_shards(relay: OutboxRelay) -> bool:
    return bool(relay.owned)


async def _janitor_ran(relay: OutboxRelay) -> bool:
    # The janitor's last step sets the schema's oldest-pending gauge: absent before its first run.
    return REGISTRY.get_sample_value("omnicase_outbox_oldest_pending_seconds", {"schema": relay.schema}) is not None
