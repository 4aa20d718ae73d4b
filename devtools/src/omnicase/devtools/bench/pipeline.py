"""The kit end to end: writers through the outbox, the relay, the broker and a batch consumer."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, DateTime, Integer, Table, Uuid, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from omnicase.devtools.bench.config import (
    CONSUMER_GROUP,
    KIT_SCHEMA,
    PACED_SECONDS,
    PACED_SHARE,
    SOURCE,
    BenchConfig,
    BenchError,
)
from omnicase.devtools.bench.measure import CpuMeter, Measurement, await_with_progress
from omnicase.kit.bus.batch import Batch, BatchHandler
from omnicase.kit.bus.consumer import ConsumerConfig, EventConsumer
from omnicase.kit.bus.producer import EventProducer
from omnicase.kit.db import Database, create_engine, service_metadata
from omnicase.kit.events import CaseUpdated, Envelope, FieldChange
from omnicase.kit.inbox import Inbox, inbox_table
from omnicase.kit.outbox import Outbox, OutboxRelay, outbox_table
from omnicase.kit.topics import Topic, dlq, physical
from omnicase.ops.migrations import create_kit_tables
from omnicase.ops.topics import ensure_topics

# Set by _TrackedDatabase on each consumer transaction; the handler appends to it.
_HANDLED = "omnicase.bench.handled"


class _CommitTracker:
    """Counts events whose handler transaction committed, and how long each took."""

    def __init__(self) -> None:
        self.expect(0)

    def expect(self, target: int) -> None:
        self.target = target
        self.count = 0
        self.transactions = 0
        self.latencies_ms: list[float] = []
        self.last_commit = 0.0
        self.done = asyncio.Event()

    def committed(self, envelopes: list[Envelope]) -> None:
        wall = time.time()
        self.latencies_ms += [(wall - envelope.time.timestamp()) * 1000 for envelope in envelopes]
        self.count += len(envelopes)
        self.transactions += 1
        self.last_commit = time.perf_counter()
        if self.count >= self.target:
            self.done.set()


class _TrackedDatabase(Database):
    """The consumer's :class:`Database`, reporting the events of each transaction once it committed."""

    def __init__(self, engine: AsyncEngine, tracker: _CommitTracker) -> None:
        super().__init__(engine)
        self.tracker = tracker

    @asynccontextmanager
    async def unit_of_work(self, *, wait_for_flush: bool = True) -> AsyncIterator[AsyncSession]:
        handled: list[Envelope] = []
        async with super().unit_of_work(wait_for_flush=wait_for_flush) as session:
            session.info[_HANDLED] = handled
            yield session
        # Reached only when the commit succeeded; a failed batch is retried and counted then.
        if handled:
            self.tracker.committed(handled)


def _applied_table(schema: str) -> Table:
    return Table(
        "case_updates_applied",
        service_metadata(schema),
        Column("event_id", Uuid, primary_key=True),
        Column("case_id", Uuid, nullable=False),
        Column("version", Integer, nullable=False),
        Column("applied_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def _handler(applied: Table) -> BatchHandler:
    async def apply_case_updates(session: AsyncSession, batch: Batch) -> None:
        rows = [
            {"event_id": received.envelope.id, "case_id": data.case_id, "version": data.version}
            for received in batch
            if isinstance(data := received.data, CaseUpdated)
        ]
        await session.execute(insert(applied), rows)
        handled = session.info.get(_HANDLED)
        if handled is not None:
            handled.extend(received.envelope for received in batch)

    return apply_case_updates


def case_updated(case_id: uuid.UUID, version: int) -> CaseUpdated:
    return CaseUpdated(
        case_id=case_id,
        version=version,
        changes={"status": FieldChange(old="open", new="pending"), "priority": FieldChange(old="normal", new="high")},
        actor="user:0190c4a2-7b3e-7f00-8000-000000000001",
    )


async def _write_events(
    database: Database,
    outbox: Outbox,
    *,
    count: int,
    writers: int,
    per_tx: int,
    cases: list[uuid.UUID],
    first_version: int,
    latencies: list[float],
    rate: float | None = None,
) -> None:
    """``count`` events over ``writers`` concurrent writers, ``per_tx`` per transaction.

    Unthrottled unless ``rate`` (events/s) is given: then event ``i`` is written no
    earlier than ``i / rate`` seconds after the start, whether or not earlier ones are done.
    Each event's latency is its transaction's.
    """
    starts = iter(range(0, count, per_tx))
    loop = asyncio.get_running_loop()
    start = loop.time()

    async def writer() -> None:
        for first in starts:
            if rate:
                delay = start + first / rate - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            items = []
            for index in range(first, min(count, first + per_tx)):
                case_id = cases[index % len(cases)]
                data = case_updated(case_id, first_version + index)
                envelope = data.envelope(source=SOURCE, subject=str(case_id))
                items.append((data.topic.value, envelope, str(case_id)))
            started = time.perf_counter()
            async with database.unit_of_work() as session:
                await outbox.add_envelopes(session, items)
            latencies.extend([(time.perf_counter() - started) * 1000] * len(items))

    await asyncio.gather(*(writer() for _ in range(writers)))


@dataclass
class KitRun:
    measurements: list[Measurement]
    diagnostics: dict[str, Any]


async def kit_pipeline(config: BenchConfig, url: str, bootstrap: str) -> KitRun:
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    topic = physical(Topic.CASE_EVENTS.value, prefix)
    await ensure_topics(bootstrap, [topic, dlq(topic)], partitions=config.partitions)

    metadata = service_metadata(KIT_SCHEMA)
    outbox_rows, inbox_rows = outbox_table(metadata), inbox_table(metadata)
    applied = _applied_table(KIT_SCHEMA)
    # A service's pool: the kit's engine settings, big enough that writers never queue for a connection.
    engine = create_engine(url, pool_size=config.writers + 4, application_name="omnicase-bench")
    tracker = _CommitTracker()
    database = Database(engine)
    outbox = Outbox(outbox_rows)
    producer = EventProducer(bootstrap, client_id="bench-kit")
    relay = OutboxRelay(database, producer, outbox_rows, topic_prefix=prefix)
    consumer = EventConsumer(
        ConsumerConfig(group=CONSUMER_GROUP, topics=[Topic.CASE_EVENTS.value]),
        _handler(applied),
        database=_TrackedDatabase(engine, tracker),
        inbox=Inbox(inbox_rows),
        producer=producer,
        bootstrap_servers=bootstrap,
        topic_prefix=prefix,
    )
    cases = [uuid.uuid4() for _ in range(config.cases)]

    def pipeline_state() -> str:
        return (
            f"relay running: {relay.running}, shards owned: {len(relay.owned)}/{relay.shards}, "
            f"consumer healthy: {consumer.healthy}; the server logs are printed above"
        )

    def pipeline_alive() -> None:
        if consumer.failure is not None:
            raise BenchError(f"the kit consumer stopped: {consumer.failure!r}")
        if not relay.running:
            raise BenchError("the outbox relay stopped")

    async def through_pipeline(
        count: int, first_version: int, write_latencies: list[float], rate: float | None = None
    ) -> float:
        """Write ``count`` events and wait until all are applied; returns when the writers finished."""
        tracker.expect(count)
        writes = asyncio.create_task(
            _write_events(
                database,
                outbox,
                count=count,
                writers=config.writers,
                per_tx=config.events_per_tx,
                cases=cases,
                first_version=first_version,
                latencies=write_latencies,
                rate=rate,
            )
        )
        await await_with_progress(
            writes,
            what="kit outbox writers",
            progress=lambda: len(write_latencies),
            target=count,
            stall_timeout=config.stall_timeout,
            check=pipeline_alive,
            detail=pipeline_state,
        )
        written = time.perf_counter()
        await await_with_progress(
            tracker.done.wait(),
            what="kit relay and consumer",
            progress=lambda: tracker.count,
            target=count,
            stall_timeout=config.stall_timeout,
            check=pipeline_alive,
            detail=pipeline_state,
        )
        return written

    try:
        async with engine.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{KIT_SCHEMA}"'))
            await connection.run_sync(create_kit_tables, KIT_SCHEMA)
            await connection.run_sync(applied.create)
        await producer.start()
        relay.start()
        await consumer.start()

        await through_pipeline(config.warmup, 0, [])
        last_warmup_id = await _last_outbox_id(database, outbox_rows)

        write_latencies: list[float] = []
        meter = CpuMeter()
        started = time.perf_counter()
        written = await through_pipeline(config.events, config.warmup, write_latencies)
        end_to_end = tracker.last_commit - started
        cpu = meter.usage()
        full_load = list(tracker.latencies_ms)
        full_speed = await _kit_diagnostics(database, outbox_rows, last_warmup_id, tracker)
        last_full_speed_id = await _last_outbox_id(database, outbox_rows)

        # The same path well below saturation: latency without the queueing of the run above.
        paced_rate = PACED_SHARE * config.events / end_to_end
        paced_count = max(50, min(config.events // 4, int(paced_rate * PACED_SECONDS)))
        print(
            f"  full speed {config.events / end_to_end:,.0f} events/s; now {paced_count} paced at "
            f"{paced_rate:,.0f}/s for latency …",
            flush=True,
        )
        meter = CpuMeter()
        paced_started = time.perf_counter()
        await through_pipeline(paced_count, config.warmup + config.events, [], rate=paced_rate)
        paced_seconds = tracker.last_commit - paced_started
        paced_cpu = meter.usage()
        paced = await _kit_diagnostics(database, outbox_rows, last_full_speed_id, tracker)

        expected = config.warmup + config.events + paced_count
        async with database.unit_of_work() as session:
            applied_rows = int(await session.scalar(select(func.count()).select_from(applied)) or 0)
        if applied_rows != expected:
            raise BenchError(f"the kit consumer applied {applied_rows} events, expected {expected}")
    finally:
        with contextlib.suppress(Exception):
            await consumer.stop()
        with contextlib.suppress(Exception):
            await relay.stop()
        with contextlib.suppress(Exception):
            await producer.stop()
        await engine.dispose()

    pickup = full_speed.pop("pickup_ms")
    paced.pop("pickup_ms")
    return KitRun(
        [
            Measurement(
                "kit_outbox_write",
                f"kit: outbox write tx ({config.writers} writers, {config.events_per_tx} ev/tx)",
                config.events,
                written - started,
                write_latencies,
                "transaction begun to committed",
                cpu=cpu,
            ),
            Measurement(
                "kit_write_to_relay",
                "kit: stage write -> relay pickup",
                config.events,
                None,
                latency_from="outbox created_at to published_at (transaction start times, PostgreSQL clock)",
                fixed_percentiles=pickup,
            ),
            Measurement(
                "kit_end_to_end",
                "kit: outbox -> relay -> broker -> consumer",
                config.events,
                end_to_end,
                full_load,
                "envelope time (outbox write) to handler transaction committed",
                cpu=cpu,
            ),
            Measurement(
                "kit_paced",
                f"kit: same, paced at {PACED_SHARE:.0%} of that rate",
                paced_count,
                paced_seconds,
                tracker.latencies_ms,
                "envelope time (outbox write) to handler transaction committed",
                cpu=paced_cpu,
            ),
        ],
        {"full_speed": full_speed, "paced": paced, "applied_rows": applied_rows},
    )


async def _last_outbox_id(database: Database, outbox_rows: Table) -> int:
    async with database.unit_of_work() as session:
        return int(await session.scalar(select(func.max(outbox_rows.c.id))) or 0)


async def _kit_diagnostics(
    database: Database, outbox_rows: Table, after_id: int, tracker: _CommitTracker
) -> dict[str, Any]:
    """How the relay and consumer batched the events after outbox id ``after_id`` (explains the rate)."""
    waited = func.extract("epoch", outbox_rows.c.published_at - outbox_rows.c.created_at) * 1000
    async with database.unit_of_work() as session:
        row = (
            await session.execute(
                select(
                    func.count(),
                    func.count(func.distinct(outbox_rows.c.published_at)),
                    func.percentile_cont(0.5).within_group(waited),
                    func.percentile_cont(0.95).within_group(waited),
                    func.percentile_cont(0.99).within_group(waited),
                ).where(outbox_rows.c.id > after_id, outbox_rows.c.published_at.is_not(None))
            )
        ).one()
    published, relay_batches, p50, p95, p99 = row
    return {
        "pickup_ms": {"p50": float(p50 or 0), "p95": float(p95 or 0), "p99": float(p99 or 0)},
        "outbox_rows_published": int(published),
        "relay_batches": int(relay_batches),
        "relay_events_per_batch": round(published / relay_batches, 1) if relay_batches else None,
        "consumer_transactions": tracker.transactions,
        "consumer_events_per_transaction": round(tracker.count / tracker.transactions, 1)
        if tracker.transactions
        else None,
    }


# -- the run -------------------------------------------------------------------------------
