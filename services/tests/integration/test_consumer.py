"""The kit's consumer loop against real PostgreSQL and the real broker."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Awaitable, Callable

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.devtools.testing.plugin import ScratchSchema, eventually
from omnicase.devtools.testing.probes import Effects, numbered_event, read_topic
from omnicase.kit.bus.batch import Batch
from omnicase.kit.bus.consumer import ConsumerConfig, ConsumerStopped, EventConsumer
from omnicase.kit.bus.producer import EventProducer
from omnicase.kit.events import CaseUpdated, Envelope
from omnicase.kit.inbox import Inbox
from omnicase.kit.topics import Topic, dlq, physical
from omnicase.ops.dead_letters import DeadLetterError, read_dead_letters, replay_dead_letters

pytestmark = pytest.mark.asyncio

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]


def each_in_order(handle: Handler) -> Callable[[AsyncSession, Batch], Awaitable[None]]:
    """A batch handler calling ``handle`` for each event's envelope in order, under its trace id."""

    async def handle_batch(session: AsyncSession, batch: Batch) -> None:
        for received in batch:
            with received.traced():
                await handle(session, received.envelope)

    return handle_batch


def make_consumer(
    scratch_schema: ScratchSchema,
    producer: EventProducer,
    kafka_bootstrap: str,
    prefix: str,
    handler: Handler,
    **config: object,
) -> EventConsumer:
    config.setdefault("group", "kit-test")
    return EventConsumer(
        ConsumerConfig(
            topics=[Topic.CASE_EVENTS],
            backoff_initial=0.01,
            session_timeout_ms=3000,
            heartbeat_interval_ms=300,
            **config,  # type: ignore[arg-type]
        ),
        each_in_order(handler),
        database=scratch_schema.database,
        inbox=Inbox(scratch_schema.inbox),
        producer=producer,
        bootstrap_servers=kafka_bootstrap,
        topic_prefix=prefix,
    )


async def publish_numbered(producer: EventProducer, prefix: str, case_id: uuid.UUID, seqs: range) -> None:
    for seq in seqs:
        envelope = numbered_event(case_id, seq).envelope(source="test", subject=str(case_id))
        await producer.publish(physical(Topic.CASE_EVENTS, prefix), envelope, key=str(case_id))


def count_at_least(effects: Effects, schema: ScratchSchema, expected: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await effects.count(schema) >= expected

    return check


async def test_failing_message_is_retried_then_dead_lettered_with_its_reason(
    scratch_schema: ScratchSchema, producer: EventProducer, kafka_bootstrap: str, suite_topics: str, effects: Effects
) -> None:
    attempts: dict[int, int] = {}

    async def handler(session: AsyncSession, envelope: Envelope) -> None:
        seq = int(CaseUpdated.parse(envelope).changes["seq"].new)
        attempts[seq] = attempts.get(seq, 0) + 1
        if seq == 3:
            raise ValueError("seq 3 is poison")
        await effects.record(session, envelope)

    case_id = uuid.uuid4()
    await publish_numbered(producer, suite_topics, case_id, range(1, 6))
    consumer = make_consumer(scratch_schema, producer, kafka_bootstrap, suite_topics, handler, max_attempts=3)
    await consumer.start()
    try:
        await eventually(count_at_least(effects, scratch_schema, 4), message="4 good messages applied")
    finally:
        await consumer.stop()

    assert sorted(seq for _, _, seq in await effects.rows(scratch_schema)) == [1, 2, 4, 5]
    assert attempts[3] >= 3, "the poison message is retried before it is dead-lettered"
    dead = await read_topic(kafka_bootstrap, dlq(physical(Topic.CASE_EVENTS, suite_topics)), expect=1)
    assert len(dead) == 1
    headers = {name: value.decode() for name, value in dead[0].headers}
    assert headers["dlq-error"] == "ValueError: seq 3 is poison"
    assert headers["dlq-original-topic"] == physical(Topic.CASE_EVENTS, suite_topics)
    assert headers["dlq-attempts"] == "3"
    assert headers["event-type"] == "case.updated", "the original headers travel with the dead letter"
    assert CaseUpdated.parse(Envelope.from_bytes(dead[0].value)).changes["seq"].new == 3


async def test_undecodable_message_is_dead_lettered_without_retry(
    scratch_schema: ScratchSchema, producer: EventProducer, kafka_bootstrap: str, suite_topics: str, effects: Effects
) -> None:
    topic = physical(Topic.CASE_EVENTS, suite_topics)
    await producer.send(topic, b"{not json", key=b"k")
    await publish_numbered(producer, suite_topics, uuid.uuid4(), range(1, 2))
    consumer = make_consumer(scratch_schema, producer, kafka_bootstrap, suite_topics, effects.record)
    await consumer.start()
    try:
        await eventually(count_at_least(effects, scratch_schema, 1), message="good message applied")
    finally:
        await consumer.stop()
    dead = await read_topic(kafka_bootstrap, dlq(topic), expect=1)
    assert [record.value for record in dead] == [b"{not json"]
    assert dict(dead[0].headers)["dlq-error-type"] == b"ValidationError"


async def test_flood_of_poison_stops_the_consumer_instead_of_dead_lettering_everything(
    scratch_schema: ScratchSchema, producer: EventProducer, kafka_bootstrap: str, suite_topics: str
) -> None:
    async def broken(session: AsyncSession, envelope: Envelope) -> None:
        raise KeyError("bug in handler")

    await publish_numbered(producer, suite_topics, uuid.uuid4(), range(1, 11))
    consumer = make_consumer(
        scratch_schema, producer, kafka_bootstrap, suite_topics, broken, max_attempts=1, dlq_flood_limit=3
    )
    await consumer.start()

    async def stopped() -> bool:
        return not consumer.healthy

    try:
        await eventually(stopped, message="consumer stopped")
    finally:
        await consumer.stop()
    assert isinstance(consumer.failure, ConsumerStopped)
    dead = await read_topic(kafka_bootstrap, dlq(physical(Topic.CASE_EVENTS, suite_topics)), expect=3)
    assert len(dead) == 3, "only up to the flood limit is dead-lettered"


async def test_transient_failures_are_retried_past_the_attempt_limit_and_never_dead_lettered(
    scratch_schema: ScratchSchema, producer: EventProducer, kafka_bootstrap: str, suite_topics: str, effects: Effects
) -> None:
    failures = 0

    async def flaky(session: AsyncSession, envelope: Envelope) -> None:
        nonlocal failures
        if failures < 6:
            failures += 1
            raise ConnectionResetError("database went away")
        await effects.record(session, envelope)

    await publish_numbered(producer, suite_topics, uuid.uuid4(), range(1, 3))
    consumer = make_consumer(scratch_schema, producer, kafka_bootstrap, suite_topics, flaky, max_attempts=2)
    await consumer.start()
    try:
        await eventually(count_at_least(effects, scratch_schema, 2), message="applied after transient failures")
    finally:
        await consumer.stop()
    assert failures == 6
    assert await read_topic(kafka_bootstrap, dlq(physical(Topic.CASE_EVENTS, suite_topics)), expect=0, within=1) == []


async def test_offset_is_not_committed_when_the_transaction_fails_so_the_message_comes_again(
    scratch_schema: ScratchSchema, producer: EventProducer, kafka_bootstrap: str, suite_topics: str, effects: Effects
) -> None:
    tried = asyncio.Event()

    async def always_failing(session: AsyncSession, envelope: Envelope) -> None:
        await effects.record(session, envelope)  # written, then rolled back with the transaction
        tried.set()
        raise ValueError("cannot apply yet")

    case_id = uuid.uuid4()
    await publish_numbered(producer, suite_topics, case_id, range(1, 2))
    first = make_consumer(scratch_schema, producer, kafka_bootstrap, suite_topics, always_failing, max_attempts=10_000)
    await first.start()
    await asyncio.wait_for(tried.wait(), timeout=20)
    await first.stop(grace=0.5)
    assert await effects.count(scratch_schema) == 0, "the failed transaction left nothing behind"

    committed = await _committed_offsets(
        kafka_bootstrap, f"{suite_topics}kit-test", physical(Topic.CASE_EVENTS, suite_topics)
    )
    assert all(offset is None for offset in committed), "no offset may be committed for an unapplied message"

    second = make_consumer(scratch_schema, producer, kafka_bootstrap, suite_topics, effects.record)
    await second.start()
    try:
        await eventually(count_at_least(effects, scratch_schema, 1), message="message redelivered and applied")
    finally:
        await second.stop()
    assert [seq for _, _, seq in await effects.rows(scratch_schema)] == [1]


def _keys_in_distinct_partitions(count: int, partitions: int = 4) -> list[uuid.UUID]:
    """Case ids the producer's default partitioner puts in ``count`` different partitions."""
    chosen: dict[int, uuid.UUID] = {}
    while len(chosen) < count:
        case_id = uuid.uuid4()
        chosen.setdefault(DefaultPartitioner()(str(case_id).encode(), list(range(partitions)), []), case_id)
    return list(chosen.values())


async def test_a_slow_case_holds_up_only_its_own_partition_when_partitions_apply_at_once(
    scratch_schema: ScratchSchema, producer: EventProducer, kafka_bootstrap: str, suite_topics: str, effects: Effects
) -> None:
    slow_case, *other_cases = _keys_in_distinct_partitions(3)
    release = asyncio.Event()

    async def handler(session: AsyncSession, envelope: Envelope) -> None:
        if CaseUpdated.parse(envelope).case_id == slow_case:
            await release.wait()
        await effects.record(session, envelope)

    for case_id in (slow_case, *other_cases):
        await publish_numbered(producer, suite_topics, case_id, range(1, 4))
    consumer = make_consumer(scratch_schema, producer, kafka_bootstrap, suite_topics, handler, partitions_at_once=4)
    await consumer.start()
    try:
        # The others' events are committed while the slow case's transaction still waits.
        await eventually(count_at_least(effects, scratch_schema, 6), message="the other cases applied meanwhile")
        assert {key for _, key, _ in await effects.rows(scratch_schema)} == {str(case) for case in other_cases}
        release.set()
        await eventually(count_at_least(effects, scratch_schema, 9), message="the slow case applied once released")
    finally:
        release.set()
        await consumer.stop()
    rows = await effects.rows(scratch_schema)
    assert len(rows) == 9, "each event applied once"
    for case_id in (slow_case, *other_cases):
        assert [seq for _, key, seq in rows if key == str(case_id)] == [1, 2, 3], "each case's events in order"


async def test_a_handler_with_nothing_to_do_has_its_events_passed_over_unclaimed_until_it_wants_them(
    scratch_schema: ScratchSchema, producer: EventProducer, kafka_bootstrap: str, suite_topics: str, effects: Effects
) -> None:
    """``wants`` False (no webhook subscribed): no handler call and no inbox row; True again: handled as usual."""
    wanted = False
    asked = asyncio.Event()

    async def wants(session: AsyncSession) -> bool:
        # It can read (configuration, say), each statement alone: one round trip, no BEGIN or COMMIT.
        assert await session.scalar(select(func.count()).select_from(scratch_schema.inbox)) == 0
        raw = await (await session.connection()).get_raw_connection()
        assert raw.driver_connection is not None
        assert not raw.driver_connection.is_in_transaction(), "no transaction held open"
        asked.set()
        return wanted

    consumer = EventConsumer(
        ConsumerConfig(
            group="kit-test", topics=[Topic.CASE_EVENTS], session_timeout_ms=3000, heartbeat_interval_ms=300
        ),
        effects.apply,
        wants=wants,
        database=scratch_schema.database,
        inbox=Inbox(scratch_schema.inbox),
        producer=producer,
        bootstrap_servers=kafka_bootstrap,
        topic_prefix=suite_topics,
    )
    case_id = uuid.uuid4()
    await consumer.start()
    try:
        await publish_numbered(producer, suite_topics, case_id, range(1, 4))
        await asyncio.wait_for(asked.wait(), timeout=20)
        await eventually(_offsets_at(kafka_bootstrap, suite_topics, 3), message="passed-over events committed")
        assert await effects.count(scratch_schema) == 0
        async with scratch_schema.database.unit_of_work() as session:
            claimed = await session.scalar(select(func.count()).select_from(scratch_schema.inbox))
        assert claimed == 0, "nothing claimed: the inbox holds only what a handler applied"

        wanted = True
        await publish_numbered(producer, suite_topics, case_id, range(4, 6))
        await eventually(count_at_least(effects, scratch_schema, 2), message="events handled once wanted")
    finally:
        await consumer.stop()
    assert [seq for _, _, seq in await effects.rows(scratch_schema)] == [4, 5]


async def test_offsets_of_applied_batches_are_committed_when_the_consumer_falls_idle_or_stops_not_an_interval_later(
    scratch_schema: ScratchSchema, producer: EventProducer, kafka_bootstrap: str, suite_topics: str, effects: Effects
) -> None:
    """Offsets wait up to commit_interval_ms to be committed together, but never past an idle poll or a stop."""
    case_id = uuid.uuid4()
    await publish_numbered(producer, suite_topics, case_id, range(1, 4))
    consumer = make_consumer(
        scratch_schema, producer, kafka_bootstrap, suite_topics, effects.record, commit_interval_ms=3_600_000
    )
    await consumer.start()
    try:
        await eventually(count_at_least(effects, scratch_schema, 3), message="all three applied")
    finally:
        await consumer.stop()
    committed = await _committed_offsets(
        kafka_bootstrap, f"{suite_topics}kit-test", physical(Topic.CASE_EVENTS, suite_topics)
    )
    assert sum(offset or 0 for offset in committed) == 3, "the next member starts after what this one applied"


async def test_fetches_are_held_briefly_while_events_flow_and_longer_the_longer_the_group_is_quiet(
    scratch_schema: ScratchSchema, producer: EventProducer, kafka_bootstrap: str, suite_topics: str, effects: Effects
) -> None:
    """Each hop of a case's path waits for a fetch to end; an idle suite should not ask the broker all the time."""
    consumer = make_consumer(
        scratch_schema,
        producer,
        kafka_bootstrap,
        suite_topics,
        effects.record,
        fetch_max_wait_ms=20,
        quiet_fetch_max_wait_ms=60,
        quiet_after_seconds=3.0,
        idle_fetch_max_wait_ms=120,
        idle_after_seconds=6.0,
    )
    await consumer.start()
    try:
        await eventually(_fetch_wait(consumer, 120), message="nothing yet: the idle hold")
        case_id = uuid.uuid4()
        await publish_numbered(producer, suite_topics, case_id, range(1, 3))
        await eventually(count_at_least(effects, scratch_schema, 2), message="both applied")
        assert consumer.fetch_wait_ms == 20, "records flowing: the short hold"
        await eventually(_fetch_wait(consumer, 60), message="three seconds without records: the quiet hold")
        await eventually(_fetch_wait(consumer, 120), message="six seconds without records: the idle hold")
        await publish_numbered(producer, suite_topics, case_id, range(3, 4))
        await eventually(count_at_least(effects, scratch_schema, 3), message="the event after the lull applied")
        assert consumer.fetch_wait_ms == 20
    finally:
        await consumer.stop()


def _fetch_wait(consumer: EventConsumer, expected: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return consumer.fetch_wait_ms == expected

    return check


def _offsets_at(bootstrap: str, prefix: str, total: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        offsets = await _committed_offsets(bootstrap, f"{prefix}kit-test", physical(Topic.CASE_EVENTS, prefix))
        return sum(offset or 0 for offset in offsets) >= total

    return check


async def _committed_offsets(bootstrap: str, group: str, topic: str) -> list[int | None]:
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await probe.start()
    try:
        partitions = probe.partitions_for_topic(topic) or set()
        return [await probe.committed(TopicPartition(topic, partition)) for partition in sorted(partitions)]
    finally:
        await probe.stop()


async def test_consumers_joining_and_leaving_mid_stream_lose_nothing_and_apply_each_event_once(
    scratch_schema: ScratchSchema, producer: EventProducer, kafka_bootstrap: str, suite_topics: str, effects: Effects
) -> None:
    cases = [uuid.uuid4() for _ in range(8)]
    total = 8 * 60

    async def produce_stream() -> None:
        for chunk in range(6):
            await asyncio.gather(
                *(
                    publish_numbered(producer, suite_topics, case, range(chunk * 10 + 1, chunk * 10 + 11))
                    for case in cases
                )
            )
            await asyncio.sleep(0.3)

    applied_by = {"first": 0, "second": 0}

    def counting(name: str) -> Handler:
        async def handler(session: AsyncSession, envelope: Envelope) -> None:
            await effects.record(session, envelope)
            applied_by[name] += 1

        return handler

    first = make_consumer(scratch_schema, producer, kafka_bootstrap, suite_topics, counting("first"), max_records=20)
    second = make_consumer(scratch_schema, producer, kafka_bootstrap, suite_topics, counting("second"), max_records=20)
    await first.start()
    stream = asyncio.create_task(produce_stream())
    try:
        await eventually(count_at_least(effects, scratch_schema, 60), message="first consumer under way")
        await second.start()  # joins: partitions are rebalanced mid-stream
        await eventually(count_at_least(effects, scratch_schema, 240), message="both consuming")
        await first.stop()  # leaves: its partitions move to the second
        await stream
        await eventually(count_at_least(effects, scratch_schema, total), within=40, message="every event applied")
        await asyncio.sleep(0.5)
    finally:
        stream.cancel()
        await first.stop()
        await second.stop()

    assert applied_by["first"] > 0
    assert applied_by["second"] > 0, "the joining consumer took over partitions"
    rows = await effects.rows(scratch_schema)
    assert len(rows) == total, "no gap and no duplicate applied"
    assert len({event_id for event_id, _, _ in rows}) == total
    for case in cases:
        assert [seq for _, key, seq in rows if key == str(case)] == list(range(1, 61)), "per-key order kept"


async def test_events_published_while_a_member_lies_dead_reach_its_successor_without_any_republish(
    scratch_schema: ScratchSchema, producer: EventProducer, kafka_bootstrap: str, suite_topics: str, effects: Effects
) -> None:
    """What a restarted intake meets: its consumer was SIGKILLed (no LeaveGroup, its last offsets
    committed or not), the acknowledgements it waits for were published meanwhile, a new process
    joins the same group. It must read them from the committed offset, none skipped."""
    url = scratch_schema.database.engine.url.render_as_string(hide_password=False)
    group = "kit-test-killed"
    member = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "omnicase.devtools.testing.member", url, scratch_schema.name),
        *(kafka_bootstrap, suite_topics, group),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert member.stdout is not None
        assert (await asyncio.wait_for(member.stdout.readline(), 30)).strip() == b"ready"
        case_id = uuid.uuid4()
        await publish_numbered(producer, suite_topics, case_id, range(1, 4))
        await eventually(count_at_least(effects, scratch_schema, 3), within=30, message="the first member applied 3")
    finally:
        member.kill()
        await member.wait()
    await publish_numbered(producer, suite_topics, case_id, range(4, 9))
    successor = make_consumer(scratch_schema, producer, kafka_bootstrap, suite_topics, effects.record, group=group)
    await successor.start()
    try:
        await eventually(count_at_least(effects, scratch_schema, 8), within=30, message="the successor applied 4-8")
        await asyncio.sleep(0.5)  # time for a wrongly applied duplicate to show up
    finally:
        await successor.stop()
    assert [seq for _, _, seq in await effects.rows(scratch_schema)] == list(range(1, 9))


async def test_dead_letters_are_listed_with_their_reason_and_replayed_once_the_cause_is_fixed(
    scratch_schema: ScratchSchema, producer: EventProducer, kafka_bootstrap: str, suite_topics: str, effects: Effects
) -> None:
    broken = True

    async def handler(session: AsyncSession, envelope: Envelope) -> None:
        seq = int(CaseUpdated.parse(envelope).changes["seq"].new)
        if broken and seq == 3:
            raise ValueError("seq 3 needs the fix")
        await effects.record(session, envelope)

    case_id = uuid.uuid4()
    await publish_numbered(producer, suite_topics, case_id, range(1, 6))
    consumer = make_consumer(scratch_schema, producer, kafka_bootstrap, suite_topics, handler, max_attempts=1)
    await consumer.start()
    try:
        await eventually(count_at_least(effects, scratch_schema, 4), message="the 4 good messages applied")
        await read_topic(kafka_bootstrap, dlq(physical(Topic.CASE_EVENTS, suite_topics)), expect=1)

        [letter] = await read_dead_letters(kafka_bootstrap, "case.events", prefix=suite_topics)
        assert not letter.replayed
        assert letter.header("dlq-consumer") == "kit-test"
        assert "ValueError: seq 3 needs the fix" in letter.summary()
        assert await replay_dead_letters(kafka_bootstrap, "case.events", prefix=suite_topics, dry_run=True) == [letter]
        assert not (await read_dead_letters(kafka_bootstrap, "case.events", prefix=suite_topics))[0].replayed

        broken = False  # the fix is deployed
        assert await replay_dead_letters(kafka_bootstrap, "case.events", prefix=suite_topics) == [letter]
        await eventually(count_at_least(effects, scratch_schema, 5), message="the replayed message applied")
        assert await replay_dead_letters(kafka_bootstrap, "case.events", prefix=suite_topics) == []
        [again] = await read_dead_letters(kafka_bootstrap, "case.events", prefix=suite_topics)
        assert again.replayed
        await asyncio.sleep(1)  # time for a wrongly repeated replay to show up as a sixth effect
    finally:
        await consumer.stop()
    assert sorted(seq for _, _, seq in await effects.rows(scratch_schema)) == [1, 2, 3, 4, 5]


async def test_replaying_an_unknown_or_missing_dead_letter_topic_is_a_clear_error(kafka_bootstrap: str) -> None:
    with pytest.raises(DeadLetterError, match="unknown topic 'cases'"):
        await replay_dead_letters(kafka_bootstrap, "cases")
    with pytest.raises(DeadLetterError, match=r"topic nowhere\.case\.events\.dlq does not exist"):
        await read_dead_letters(kafka_bootstrap, "case.events", prefix="nowhere.")
