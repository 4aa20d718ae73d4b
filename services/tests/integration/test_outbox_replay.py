"""Replaying outboxes after the broker lost everything, against real PostgreSQL and real Tansu."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from aiokafka import ConsumerRecord
from aiokafka.structs import RecordMetadata
from sqlalchemy import func, select, update

from omnicase.cli import main
from omnicase.devtools.devstack.broker import TansuBroker
from omnicase.devtools.devstack.processes import free_port
from omnicase.devtools.testing.plugin import ScratchSchema, eventually
from omnicase.devtools.testing.probes import Effects, numbered_event, read_topic
from omnicase.kit.bus.consumer import ConsumerConfig, EventConsumer
from omnicase.kit.bus.producer import EventProducer, Headers
from omnicase.kit.clock import utcnow
from omnicase.kit.events import CaseUpdated, Envelope
from omnicase.kit.inbox import Inbox
from omnicase.kit.outbox import Outbox, OutboxRelay
from omnicase.kit.service import ServiceSpec
from omnicase.kit.topics import Topic, physical
from omnicase.ops.replay import ReplayError, replay_published_since, replay_suite
from omnicase.ops.topics import ensure_suite_topics

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def own_broker(tmp_path: Path) -> AsyncIterator[TansuBroker]:
    """A broker this test alone uses, so it can kill it."""
    broker = TansuBroker(port=free_port(), log_file=tmp_path / "tansu.log")
    await asyncio.to_thread(broker.start)
    try:
        yield broker
    finally:
        await asyncio.to_thread(broker.stop)


async def _write(schema: ScratchSchema, key: uuid.UUID, seqs: range) -> None:
    outbox = Outbox(schema.outbox)
    for seq in seqs:  # one transaction per event, as a service writes one per request
        async with schema.database.unit_of_work() as session:
            await outbox.add(session, numbered_event(key, seq), source="test", subject=str(key), key=str(key))


async def _count(schema: ScratchSchema, *, published: bool) -> int:
    table = schema.outbox
    condition = table.c.published_at.is_not(None) if published else table.c.published_at.is_(None)
    async with schema.database.unit_of_work() as session:
        return int(await session.scalar(select(func.count()).where(condition)) or 0)


async def _database_now(schema: ScratchSchema) -> datetime:
    async with schema.database.unit_of_work() as session:
        moment = await session.scalar(select(func.now()))
        assert isinstance(moment, datetime)
        return moment


def _sequences(records: list[ConsumerRecord]) -> dict[str, list[int]]:
    by_key: dict[str, list[int]] = defaultdict(list)
    for record in records:
        data = CaseUpdated.parse(Envelope.from_bytes(record.value))
        by_key[record.key.decode()].append(int(data.changes["seq"].new))
    return by_key


class _Kit:
    """What one service process holds on the broker: producer, relay, consumer."""

    def __init__(self, schema: ScratchSchema, bootstrap: str, prefix: str, effects: Effects) -> None:
        self.producer = EventProducer(bootstrap, client_id="replay-test")
        self.relay = OutboxRelay(schema.database, self.producer, schema.outbox, topic_prefix=prefix, poll_interval=0.05)
        self.consumer = EventConsumer(
            ConsumerConfig(
                group="effects", topics=[Topic.CASE_EVENTS], session_timeout_ms=3000, heartbeat_interval_ms=300
            ),
            effects.apply,
            database=schema.database,
            inbox=Inbox(schema.inbox),
            producer=self.producer,
            bootstrap_servers=bootstrap,
            topic_prefix=prefix,
        )

    async def start(self, *, consume: bool = True) -> None:
        await self.producer.start()
        self.relay.start()
        if consume:
            await self.consumer.start()

    async def stop(self) -> None:
        await self.consumer.stop()
        await self.relay.stop()
        await self.producer.stop()


async def test_after_the_broker_lost_everything_a_replay_delivers_every_event_once_in_key_order(
    scratch_schema: ScratchSchema, own_broker: TansuBroker, topic_prefix: str, effects: Effects
) -> None:
    bootstrap = own_broker.bootstrap_servers
    await ensure_suite_topics(bootstrap, prefix=topic_prefix, partitions=4)
    keys = [uuid.uuid4() for _ in range(4)]
    old_key = uuid.uuid4()

    kit = _Kit(scratch_schema, bootstrap, topic_prefix, effects)
    await kit.start()
    try:
        # Published and applied before the replay window opens.
        await _write(scratch_schema, old_key, range(1, 4))
        await eventually(lambda: _effects_are(effects, scratch_schema, 3), message="old key applied")
        since = await _database_now(scratch_schema)
        # Applied by the consumer...
        await asyncio.gather(*(_write(scratch_schema, key, range(1, 11)) for key in keys))
        await eventually(lambda: _effects_are(effects, scratch_schema, 43), message="first ten per key applied")
        await kit.consumer.stop()
        # ...published but not yet consumed when the broker dies.
        await asyncio.gather(*(_write(scratch_schema, key, range(11, 21)) for key in keys))
        await eventually(lambda: _all_published(scratch_schema), message="second ten per key published")
    finally:
        await kit.stop()
    await asyncio.to_thread(own_broker.kill)
    # Written while there is no broker at all.
    await asyncio.gather(*(_write(scratch_schema, key, range(21, 26)) for key in keys))

    async with scratch_schema.database.unit_of_work() as session:
        dry = await replay_published_since(session, scratch_schema.outbox, since, dry_run=True)
    assert dry.rows == 80, "events 1-20 of each key were published since then, the old key's before"
    assert await _count(scratch_schema, published=False) == 20, "a dry run changes nothing"
    async with scratch_schema.database.unit_of_work() as session:
        replayed = await replay_published_since(session, scratch_schema.outbox, since)
    assert replayed.rows == 80
    assert replayed.oldest_kept is not None
    assert replayed.oldest_kept < since

    # A new, empty broker on the same address, as `omnicase up` starts one.
    await asyncio.to_thread(own_broker.start)
    await ensure_suite_topics(bootstrap, prefix=topic_prefix, partitions=4)
    kit = _Kit(scratch_schema, bootstrap, topic_prefix, effects)
    await kit.start()
    try:
        await eventually(lambda: _effects_are(effects, scratch_schema, 103), within=30, message="every event applied")
        await asyncio.sleep(0.5)  # time for a wrongly applied duplicate to show up
    finally:
        await kit.stop()

    applied: dict[str, list[int]] = defaultdict(list)
    for _, key, seq in await effects.rows(scratch_schema):
        applied[key].append(seq)
    assert applied == {str(old_key): [1, 2, 3], **{str(key): list(range(1, 26)) for key in keys}}
    records = await read_topic(bootstrap, physical(Topic.CASE_EVENTS, topic_prefix), expect=100)
    assert _sequences(records) == {str(key): list(range(1, 26)) for key in keys}, (
        "the new broker gets each key's events once, oldest first, and nothing from before the window"
    )


async def _effects_are(effects: Effects, schema: ScratchSchema, expected: int) -> bool:
    return await effects.count(schema) >= expected


async def _all_published(schema: ScratchSchema) -> bool:
    return await _count(schema, published=False) == 0


class _GatedProducer:
    """A producer whose acknowledgements are held back until the test opens the gate."""

    def __init__(self, real: EventProducer) -> None:
        self.real = real
        self.acknowledged = asyncio.Event()
        self.gate = asyncio.Event()

    async def enqueue(
        self, topic: str, value: bytes, *, key: bytes | None, headers: Headers | None = None
    ) -> asyncio.Future[RecordMetadata]:
        ack = await self.real.enqueue(topic, value, key=key, headers=headers)

        async def held() -> RecordMetadata:
            metadata = await ack
            self.acknowledged.set()
            await self.gate.wait()
            return metadata

        return asyncio.ensure_future(held())


async def test_a_replay_waits_for_the_relay_batch_in_flight_and_replays_it_too(
    scratch_schema: ScratchSchema, producer: EventProducer, suite_topics: str
) -> None:
    key = uuid.uuid4()
    await _write(scratch_schema, key, range(1, 3))
    gated = _GatedProducer(producer)
    relay = OutboxRelay(scratch_schema.database, gated, scratch_schema.outbox, topic_prefix=suite_topics)
    relay.owned = set(range(relay.shards))
    batch = asyncio.create_task(relay.publish_once())
    await asyncio.wait_for(gated.acknowledged.wait(), 20)

    async def replay() -> int:
        async with scratch_schema.database.unit_of_work() as session:
            since = utcnow() - timedelta(hours=1)
            return (await replay_published_since(session, scratch_schema.outbox, since)).rows

    # The broker has the batch, the relay has not marked it yet: that is the moment a
    # broker may die with it, so the replay must include it rather than race past it.
    replaying = asyncio.create_task(replay())
    await asyncio.sleep(0.5)
    assert not replaying.done(), "the replay waits for the relay batch in flight"
    gated.gate.set()
    assert await batch == 2
    assert await replaying == 2
    assert await _count(scratch_schema, published=False) == 2, "the batch will be published again"


def _spec(name: str, schema: str) -> ServiceSpec:
    return ServiceSpec(name=name, description="", package="omnicase.kit", schema=schema, env_prefix="X_", dev_port=1)


async def _publish_all(schema: ScratchSchema, at: datetime) -> None:
    async with schema.database.unit_of_work() as session:
        await session.execute(update(schema.outbox).values(published_at=at))


async def test_the_suite_replay_covers_each_named_outbox_and_refuses_a_service_without_one(
    scratch_schema: ScratchSchema, database_url: str
) -> None:
    key = uuid.uuid4()
    await _write(scratch_schema, key, range(1, 6))
    now = await _database_now(scratch_schema)
    await _publish_all(scratch_schema, now - timedelta(minutes=5))
    with_outbox = _spec("scratch", scratch_schema.name)
    without = _spec("no-outbox", "public")

    with pytest.raises(ReplayError, match="no-outbox has no outbox"):
        await replay_suite(database_url, [with_outbox, without], now - timedelta(hours=1), require_outbox=True)
    assert await _count(scratch_schema, published=False) == 0, "a refused replay changes nothing"

    assert [
        (r.service, r.result.rows) for r in await replay_suite(database_url, [with_outbox], now - timedelta(minutes=1))
    ] == [("scratch", 0)], "rows published before --since stay published"
    replays = await replay_suite(database_url, [with_outbox, without], now - timedelta(minutes=10))
    assert [(r.service, r.result.rows) for r in replays] == [("scratch", 5)], "a service without an outbox is skipped"
    assert await _count(scratch_schema, published=False) == 5


async def _cli(*argv: str) -> int:
    # The command runs its own event loop, as it does from a shell.
    return await asyncio.to_thread(main, list(argv))


async def test_the_replay_command_refuses_bad_input_with_a_clear_error_and_changes_nothing(
    scratch_schema: ScratchSchema,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import omnicase.kit.service

    specs = [_spec("scratch", scratch_schema.name), _spec("no-outbox", "public")]
    monkeypatch.setattr(omnicase.kit.service, "discover_services", lambda: specs)
    monkeypatch.setenv("DATABASE_URL", database_url.replace("+asyncpg", ""))
    await _write(scratch_schema, uuid.uuid4(), range(1, 4))
    await _publish_all(scratch_schema, await _database_now(scratch_schema))

    cases = {
        ("--since", "1x"): "--since '1x' is neither a duration (90s, 15m, 1h, 1h30m, 2d) nor an RFC 3339 time",
        ("--since", "0m"): "--since '0m': the duration must be longer than zero",
        ("--since", "2026-11-23T10:00:00"): "give the time's UTC offset",
        ("--since", "2999-01-01T00:00:00Z"): "is in the future",
        ("--since", "1h", "--service", "nope"): "unknown service 'nope'; installed: no-outbox, scratch",
        ("--since", "1h", "--service", "scratch", "--service", "no-outbox"): "no-outbox has no outbox",
    }
    for argv, message in cases.items():
        assert await _cli("outbox", "replay", *argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("omnicase outbox replay: "), err
        assert message in err, err
        assert "Traceback" not in err
    assert await _count(scratch_schema, published=False) == 0, "bad input changes nothing"

    assert await _cli("outbox", "replay", "--since", "1h", "--dry-run") == 0
    assert "scratch: would publish again 3 events published since" in capsys.readouterr().out
    assert await _count(scratch_schema, published=False) == 0

    monkeypatch.delenv("DATABASE_URL")
    assert await _cli("outbox", "replay", "--since", "1h") == 2
    assert "set DATABASE_URL" in capsys.readouterr().err

    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:{free_port()}/omnicase")
    assert await _cli("outbox", "replay", "--since", "1h") == 1
    err = capsys.readouterr().err
    assert "omnicase outbox replay: the database failed" in err
    assert "Traceback" not in err

    monkeypatch.setenv("DATABASE_URL", database_url)
    assert await _cli("outbox", "replay", "--since", "90s", "--service", "scratch") == 0
    assert "scratch: publishing again 3 events published since" in capsys.readouterr().out
    assert await _count(scratch_schema, published=False) == 3
