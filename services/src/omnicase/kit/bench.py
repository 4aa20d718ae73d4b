"""``omnicase bench``: the kit's own throughput beside the raw ceilings of the same servers.

One run starts its own PostgreSQL (durable: ``fsync`` and ``synchronous_commit`` on, so
every commit is an honest flush to disk) and its own Tansu broker (memory storage, as in
the dev stack), on free ports in a temporary directory, and measures, in this order:

1. **PostgreSQL ceiling**: single-row ``INSERT`` transactions (each its own commit) over
   ``BENCH_PG_CONNECTIONS`` asyncpg connections, no ORM, no pool.
2. **Broker ceiling**: messages the size of an event envelope produced with ``acks=all``
   (the kit producer's client settings) and read back by a group consumer that commits
   its offsets after each poll; rate from the first send to the last message consumed.
   The consumer has joined its group before the first send and reads while the
   producer sends, as the kit's consumer does.
3. **The kit**: ``BENCH_WRITERS`` writers, each committing ``BENCH_EVENTS_PER_TX`` (10)
   ``CaseUpdated`` per transaction through :meth:`Outbox.add_envelopes` (what a service's
   batch handler does with a fetched batch; 1 is what an API request does), an
   :class:`OutboxRelay` publishing, and an :class:`EventConsumer` whose batch handler
   writes one row per event, set-based, in its inbox transaction. Rate from the first write to the last
   handler transaction committed; latency from the envelope's ``time`` (stamped as the
   outbox row is written) to the commit of the handler's transaction. Writers are not
   throttled, so those latencies include queueing; a short second run paced at half the
   measured rate gives the latency below saturation. At the end every event must have
   been applied exactly once (the handler's table is counted), or the run fails.

4. **The services' own benches** (:mod:`omnicase.kit.bench_services`): each installed
   service that registers one (routing's decisions at 1,000 agents, sla-engine's timer
   lag among a million timers…) runs on a database of its own on the same PostgreSQL.
   ``BENCH_SERVICES=routing,sla-engine`` picks some; their sizes are their own settings.
5. **The whole suite** (:mod:`omnicase.kit.bench_suite`): ``omnicase up`` on a fresh
   database of the same PostgreSQL and on the same broker, configured through the
   gateway, then at least ``BENCH_SUITE_EMAILS`` mails (10,000) over
   ``BENCH_SUITE_SMTP_SESSIONS`` SMTP sessions and ``BENCH_SUITE_FORMS`` form posts
   (10,000) over ``BENCH_SUITE_HTTP_CLIENTS`` clients, for at least ``BENCH_SUITE_SECONDS``
   (60), while an agent console sends ``BENCH_SUITE_API_RATE`` requests/s (open loop)
   through the gateway. Rows per channel: accepted per second, and p50/p95/p99 from
   acceptance to case created, assigned and SLA milestones set; per console operation:
   p50/p95/p99 and errors; then a round per channel paced at half what the pipeline kept
   up with, for the same stages below saturation. Every accepted message must become
   exactly one case, assigned and timed, or the run fails. ``BENCH_SUITE=0`` skips it.

Every rate is also shown as a share of the INSERT ceiling of the same run (reads excepted).

Each measurement follows a short warm-up through the same path (connections open, group
joined, shard locks taken, statements prepared), reported in the output; nothing else is
tuned. Every client runs in this one Python process on one event loop (uvloop when
installed, as under uvicorn), so on a small machine the kit figure also pays for writers,
relay and consumer sharing a core, which a deployment spreads over processes. Each row
shows the CPU this process used (% of one core) and the host's busy CPU (% of all cores)
while it was measured, so a reader can tell a client-bound figure from a server-bound one
and see when other work on the host skewed a run.

The table is printed and written as JSON to ``<output>/kit-<UTC timestamp>.json``.
Sizes: ``--events`` / ``BENCH_EVENTS`` (each measurement), ``BENCH_PG_CONNECTIONS``,
``BENCH_WRITERS``, ``BENCH_PARTITIONS``, ``BENCH_CASES`` (distinct keys),
``BENCH_WARMUP`` and ``BENCH_STALL_TIMEOUT`` (seconds without progress before giving up).
Speed is measured here, never by timed assertions in tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import json
import logging
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg  # type: ignore[import-untyped]
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import Column, DateTime, Integer, Table, Uuid, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from omnicase.kit.bench_services import ServiceBench, discover_benches, run_service_bench
from omnicase.kit.bus.admin import ensure_topics
from omnicase.kit.bus.batch import Batch, BatchHandler
from omnicase.kit.bus.consumer import ConsumerConfig, EventConsumer
from omnicase.kit.bus.producer import EventProducer, envelope_headers
from omnicase.kit.db import Database, create_engine, service_metadata
from omnicase.kit.devstack.broker import TansuBroker, broker_binary
from omnicase.kit.devstack.postgres import EmbeddedPostgres
from omnicase.kit.devstack.processes import free_port
from omnicase.kit.events import CaseUpdated, Envelope, FieldChange
from omnicase.kit.inbox import Inbox, inbox_table
from omnicase.kit.migrations import create_kit_tables
from omnicase.kit.outbox import Outbox, OutboxRelay, outbox_table
from omnicase.kit.topics import Topic, dlq, physical

if TYPE_CHECKING:
    # bench_suite imports this module; at run time it is imported where it is used.
    from omnicase.kit.bench_suite import SuiteBenchConfig

T = TypeVar("T")

BENCH_DATABASE = "omnicase_bench"
KIT_SCHEMA = "bench_kit"
RAW_SCHEMA = "bench_raw"
SOURCE = "bench"
CONSUMER_GROUP = "bench-kit"
# After the full-speed kit run, a short run at this share of its rate, for latency without queueing.
PACED_SHARE = 0.5
PACED_SECONDS = 10.0
# Set by _TrackedDatabase on each consumer transaction; the handler appends to it.
_HANDLED = "omnicase.bench.handled"
SUITE_NOTES = [
    "suite rows: the whole suite under `omnicase up` (OMNICASE_PROCESSES processes per service) on the same "
    "PostgreSQL and broker; mail, forms and the agent console load it at the same time, so each figure is "
    "measured beside the others.",
    "suite stages: case created / assigned = envelope time of case-core's event (stamped in the transaction that "
    "made the change); SLA milestones set = envelope time of sla-engine's sla.clocks_started (the same). "
    "Their rate = messages / (first send to the last message reaching that stage).",
    "suite intake: senders are closed loop (each sends its next message when the last is accepted), so when the "
    "pipeline is slower than acceptance the stage latencies include that backlog, as the kit's full-speed rows do; "
    "the paced rows are a second round at half the rate the pipeline kept up with, below saturation.",
    "suite api: open loop (each request sent at its scheduled time, latency from that time), 2xx only in the "
    "percentiles, other answers counted as errors.",
]


class BenchError(RuntimeError):
    """A measurement could not be completed; the message says which and why."""


# -- configuration -----------------------------------------------------------------


def _env_number(name: str, default: float, *, integer: bool = True, zero: bool = False) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    least = "0 or more" if zero else "greater than 0"
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise BenchError(f"{name} must be {kind} {least}, got {raw!r}") from None
    if value < 0 or (value == 0 and not zero):
        raise BenchError(f"{name} must be {least}, got {raw!r}")
    return value


@dataclass(frozen=True)
class BenchConfig:
    events: int
    output: Path
    pg_connections: int = 8
    writers: int = 8
    events_per_tx: int = 10
    partitions: int = 4
    cases: int = 1000
    warmup: int = 500
    stall_timeout: float = 60.0

    @classmethod
    def from_env(cls, events: int, output: str) -> BenchConfig:
        if events <= 0:
            raise BenchError(f"--events / BENCH_EVENTS must be greater than 0, got {events}")
        return cls(
            events=events,
            output=Path(output),
            pg_connections=int(_env_number("BENCH_PG_CONNECTIONS", 8)),
            writers=int(_env_number("BENCH_WRITERS", 8)),
            events_per_tx=int(_env_number("BENCH_EVENTS_PER_TX", 10)),
            partitions=int(_env_number("BENCH_PARTITIONS", 4)),
            cases=int(_env_number("BENCH_CASES", 1000)),
            # Long enough to open connections, join groups and prepare statements;
            # short next to the measurement so it cannot hide a slow start.
            warmup=int(_env_number("BENCH_WARMUP", max(50, min(1000, events // 20)))),
            stall_timeout=_env_number("BENCH_STALL_TIMEOUT", 60.0, integer=False),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "pg_connections": self.pg_connections,
            "writers": self.writers,
            "events_per_writer_transaction": self.events_per_tx,
            "partitions": self.partitions,
            "cases": self.cases,
            "warmup": self.warmup,
            "stall_timeout_s": self.stall_timeout,
        }


# -- measurements -------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of ``values`` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Measurement:
    key: str
    name: str
    count: int
    seconds: float | None
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    latency_from: str = ""
    # Stage latencies known only as percentiles (computed by PostgreSQL).
    fixed_percentiles: dict[str, float] | None = None
    cpu: CpuUsage | None = None
    # Outcomes other than success, by answer (the suite's API rows); None where nothing can fail but the run.
    errors: dict[str, int] | None = None
    # False for rows whose work is no INSERT (reads): their rate is not shown as a share of the ceiling.
    compare_to_ceiling: bool = True

    @property
    def rate(self) -> float | None:
        return self.count / self.seconds if self.seconds else None

    def percentiles(self) -> dict[str, float | None]:
        if self.fixed_percentiles is not None:
            return {name: self.fixed_percentiles.get(name) for name in ("p50", "p95", "p99")}
        return {f"p{p}": percentile(self.latencies_ms, p) for p in (50, 95, 99)}

    def as_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "key": self.key,
            "name": self.name,
            "count": self.count,
            "seconds": _round(self.seconds, 3),
            "rate_per_s": _round(self.rate, 1),
        }
        entry.update({f"{name}_ms": _round(value, 2) for name, value in self.percentiles().items()})
        if self.latency_from:
            entry["latency"] = self.latency_from
        if self.errors is not None:
            entry["errors"] = self.errors
        if self.cpu is not None:
            entry["bench_process_cpu_pct_of_one_core"] = _round(self.cpu.process_pct, 1)
            entry["host_cpu_busy_pct"] = _round(self.cpu.host_pct, 1)
        return entry


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


@dataclass(frozen=True)
class CpuUsage:
    """CPU used while something was measured: is the bench process or the whole host the limit?"""

    process_pct: float  # of one core: this process runs on one thread
    host_pct: float | None  # of all cores, every process on the host (servers, and anything else running)


class CpuMeter:
    def __init__(self) -> None:
        self._wall = time.perf_counter()
        self._process = time.process_time()
        self._host = _host_jiffies()

    def usage(self) -> CpuUsage:
        wall = time.perf_counter() - self._wall
        process = time.process_time() - self._process
        host: float | None = None
        now = _host_jiffies()
        if now is not None and self._host is not None and now[1] > self._host[1]:
            host = 100 * (now[0] - self._host[0]) / (now[1] - self._host[1])
        return CpuUsage(100 * process / wall if wall > 0 else 0.0, host)


def _host_jiffies() -> tuple[int, int] | None:
    """(busy, total) jiffies of all CPUs from /proc/stat; None where there is no /proc."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(value) for value in stat.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields)
    return total - idle, total


async def _await_with_progress(
    task: Awaitable[T],
    *,
    what: str,
    progress: Callable[[], int],
    target: int,
    stall_timeout: float,
    check: Callable[[], None] | None = None,
    detail: Callable[[], str] | None = None,
) -> T:
    """Await ``task``, failing with a clear message if ``progress()`` stops moving."""
    future = asyncio.ensure_future(task)
    loop = asyncio.get_running_loop()
    last_value, last_change = progress(), loop.time()
    try:
        while True:
            done, _ = await asyncio.wait({future}, timeout=0.5)
            if done:
                return future.result()
            if check is not None:
                check()
            value = progress()
            if value != last_value:
                last_value, last_change = value, loop.time()
            elif loop.time() - last_change > stall_timeout:
                state = f"; {detail()}" if detail is not None else ""
                raise BenchError(f"{what} made no progress for {stall_timeout:.0f}s ({value}/{target} done{state})")
    finally:
        if not future.done():
            future.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await future


# -- 1. PostgreSQL ceiling ------------------------------------------------------------


async def _insert_rows(
    connections: list[Any], count: int, payload: bytes, cases: int, latencies: list[float], stall_timeout: float
) -> None:
    indices = iter(range(count))
    statement = f"INSERT INTO {RAW_SCHEMA}.single_insert (key, payload) VALUES ($1, $2)"

    async def worker(connection: Any) -> None:
        # Shared iterator: each connection takes the next row when it is free.
        for index in indices:
            started = time.perf_counter()
            # With arguments asyncpg uses a cached prepared statement: one round trip, one implicit transaction.
            await connection.execute(statement, f"case-{index % cases}", payload)
            latencies.append((time.perf_counter() - started) * 1000)

    await _await_with_progress(
        asyncio.gather(*(worker(connection) for connection in connections)),
        what="PostgreSQL INSERT ceiling",
        progress=lambda: len(latencies),
        target=count,
        stall_timeout=stall_timeout,
    )


async def postgres_ceiling(config: BenchConfig, dsn: str, payload: bytes) -> Measurement:
    connections: list[Any] = []
    try:
        for _ in range(config.pg_connections):
            connections.append(await asyncpg.connect(dsn))
        await connections[0].execute(
            f"CREATE SCHEMA {RAW_SCHEMA}; "
            f"CREATE TABLE {RAW_SCHEMA}.single_insert ("
            " id bigserial PRIMARY KEY, key text NOT NULL, payload bytea NOT NULL,"
            " created_at timestamptz NOT NULL DEFAULT now())"
        )
        await _insert_rows(connections, config.warmup, payload, config.cases, [], config.stall_timeout)
        latencies: list[float] = []
        meter = CpuMeter()
        started = time.perf_counter()
        await _insert_rows(connections, config.events, payload, config.cases, latencies, config.stall_timeout)
        seconds = time.perf_counter() - started
        cpu = meter.usage()
    finally:
        for connection in connections:
            with contextlib.suppress(Exception):
                await connection.close()
    return Measurement(
        "postgres_insert",
        f"postgres: 1-row INSERT tx ({config.pg_connections} conns)",
        config.events,
        seconds,
        latencies,
        "statement sent to commit acknowledged",
        cpu=cpu,
    )


# -- 2. broker ceiling ------------------------------------------------------------------


@dataclass
class _BrokerRun:
    produce_seconds: float
    end_to_end_seconds: float
    latencies_ms: list[float]
    cpu: CpuUsage


async def _produce_and_consume(
    producer: Any,
    consumer: Any,
    topic: str,
    sample: Envelope,
    *,
    count: int,
    first_seq: int,
    cases: int,
    stall_timeout: float,
) -> _BrokerRun:
    value = sample.to_bytes()
    headers = envelope_headers(sample)
    sent_at = [0.0] * count
    latencies: list[float] = []
    finished = 0.0

    async def consume() -> None:
        nonlocal finished
        while len(latencies) < count:
            batches = await consumer.getmany(timeout_ms=200)
            now = time.perf_counter()
            for records in batches.values():
                for record in records:
                    seq = int(dict(record.headers)["bench-seq"]) - first_seq
                    if 0 <= seq < count:
                        latencies.append((now - sent_at[seq]) * 1000)
            if batches:
                finished = now
                await consumer.commit()

    reader = asyncio.create_task(consume())
    meter = CpuMeter()
    started = time.perf_counter()
    acks: list[asyncio.Future[Any]] = []
    try:
        for seq in range(count):
            sent_at[seq] = time.perf_counter()
            acks.append(
                await producer.send(
                    topic,
                    value,
                    key=f"case-{seq % cases}".encode(),
                    headers=[*headers, ("bench-seq", str(first_seq + seq).encode())],
                )
            )
        await asyncio.gather(*acks)
    except BaseException:
        reader.cancel()
        raise
    produced = time.perf_counter() - started
    await _await_with_progress(
        reader,
        what="broker ceiling consumer",
        progress=lambda: len(latencies),
        target=count,
        stall_timeout=stall_timeout,
    )
    return _BrokerRun(produced, finished - started, latencies, meter.usage())


async def broker_ceiling(config: BenchConfig, bootstrap: str, sample: Envelope) -> list[Measurement]:
    topic = f"bench-{uuid.uuid4().hex[:8]}.raw"
    await ensure_topics(bootstrap, [topic], partitions=config.partitions)
    # The kit producer's client settings (bus/producer.py), without the kit around it.
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, client_id="bench-raw", acks="all", linger_ms=2, request_timeout_ms=15000
    )
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"{topic}.group",
        client_id="bench-raw",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    await producer.start()
    try:
        await consumer.start()
        try:
            for count, first_seq in ((config.warmup, 0), (config.events, config.warmup)):
                run = await _produce_and_consume(
                    producer,
                    consumer,
                    topic,
                    sample,
                    count=count,
                    first_seq=first_seq,
                    cases=config.cases,
                    stall_timeout=config.stall_timeout,
                )
        finally:
            await consumer.stop()
    finally:
        await producer.stop()
    size = len(sample.to_bytes())
    return [
        Measurement(
            "broker_produce", f"broker: produce acks=all ({size} B)", config.events, run.produce_seconds, cpu=run.cpu
        ),
        Measurement(
            "broker_produce_consume",
            "broker: produce+consume end to end",
            config.events,
            run.end_to_end_seconds,
            run.latencies_ms,
            "send() called to record returned by the group consumer",
            cpu=run.cpu,
        ),
    ]


# -- 3. the kit ----------------------------------------------------------------------------


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
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        handled: list[Envelope] = []
        async with super().unit_of_work() as session:
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


def _case_updated(case_id: uuid.UUID, version: int) -> CaseUpdated:
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
                data = _case_updated(case_id, first_version + index)
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
        await _await_with_progress(
            writes,
            what="kit outbox writers",
            progress=lambda: len(write_latencies),
            target=count,
            stall_timeout=config.stall_timeout,
            check=pipeline_alive,
            detail=pipeline_state,
        )
        written = time.perf_counter()
        await _await_with_progress(
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


@dataclass
class Report:
    config: BenchConfig
    machine: dict[str, Any]
    started_at: datetime
    measurements: list[Measurement] = field(default_factory=list)
    diagnostics: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def get(self, key: str) -> Measurement | None:
        return next((m for m in self.measurements if m.key == key), None)

    def share_of_insert_ceiling(self, measurement: Measurement) -> float | None:
        ceiling = self.get("postgres_insert")
        if not measurement.compare_to_ceiling or not measurement.rate or ceiling is None or not ceiling.rate:
            return None
        return 100 * measurement.rate / ceiling.rate

    def kit_vs_ceilings(self) -> dict[str, float | None]:
        kit = self.get("kit_end_to_end")
        writes = self.get("kit_outbox_write")
        database = self.get("postgres_insert")
        broker = self.get("broker_produce_consume")

        def share(part: Measurement | None, whole: Measurement | None) -> float | None:
            if part is None or whole is None or not part.rate or not whole.rate:
                return None
            return round(100 * part.rate / whole.rate, 1)

        return {
            "kit_end_to_end_pct_of_postgres_insert": share(kit, database),
            "kit_end_to_end_pct_of_broker_produce_consume": share(kit, broker),
            "kit_outbox_write_pct_of_postgres_insert": share(writes, database),
        }

    def notes(self) -> list[str]:
        settings = self.machine.get("postgresql_settings", {})
        machine = self.machine
        return [
            f"PostgreSQL durable: fsync={settings.get('fsync')}, synchronous_commit="
            f"{settings.get('synchronous_commit')}; each commit waits for its WAL flush to "
            f"{machine.get('data_dir_filesystem')} ({machine.get('postgresql_version')}).",
            f"Broker: {machine.get('broker')}, one broker, acks=all, {self.config.partitions} partitions per topic.",
            f"Warm-up before each measurement: {self.config.warmup} rows/messages/events through the same path, "
            "not counted.",
            "Full-speed rows push as fast as the clients go, so their latencies include queueing; the paced row "
            "is the same kit path below saturation.",
            "A kit event costs a writer transaction plus a share of the relay's and the consumer's transactions, "
            "all durable, so its rate sits below the INSERT ceiling; the percentages say how far.",
            f"All clients run in one Python process on {machine.get('event_loop')}, sharing {machine.get('nproc')} "
            "CPUs with both servers. bench cpu = this process, % of one core (it uses one thread); host cpu = "
            "all processes, % of all cores.",
            f"Load average when the run started: {machine.get('loadavg_at_start')} (other work on the host skews "
            "every figure).",
        ] + (SUITE_NOTES if "suite" in self.diagnostics else [])

    def as_json(self) -> dict[str, Any]:
        return {
            "benchmark": "kit",
            "started_at": self.started_at.isoformat(),
            "seconds": round(self.seconds, 1),
            "config": self.config.as_json(),
            "machine": self.machine,
            "results": [
                {**m.as_json(), "pct_of_postgres_insert": _round(self.share_of_insert_ceiling(m), 1)}
                for m in self.measurements
            ],
            "kit_vs_ceilings": self.kit_vs_ceilings(),
            "diagnostics": self.diagnostics,
            "notes": self.notes(),
        }

    def table(self) -> str:
        header = (
            "name",
            "count",
            "seconds",
            "rate/s",
            "% of INSERT",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "bench cpu",
            "host cpu",
        )
        rows: list[tuple[str, ...]] = [header]
        for m in self.measurements:
            pct = m.percentiles()
            share = self.share_of_insert_ceiling(m)
            rows.append(
                (
                    m.name,
                    str(m.count),
                    _fmt(m.seconds, 2),
                    _fmt(m.rate, 0),
                    _fmt(share, 1, "%"),
                    _fmt(pct["p50"], 1),
                    _fmt(pct["p95"], 1),
                    _fmt(pct["p99"], 1),
                    _fmt(m.cpu.process_pct if m.cpu else None, 0, "%"),
                    _fmt(m.cpu.host_pct if m.cpu else None, 0, "%"),
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        lines = [
            "  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row))
            for row in rows
        ]
        lines.insert(1, "-" * len(lines[0]))
        shares = self.kit_vs_ceilings()
        lines += [
            "",
            f"kit end to end = {_fmt(shares['kit_end_to_end_pct_of_postgres_insert'], 1)}% of the PostgreSQL "
            f"INSERT ceiling, {_fmt(shares['kit_end_to_end_pct_of_broker_produce_consume'], 1)}% of the broker "
            "produce+consume ceiling",
            f"kit outbox writes = {_fmt(shares['kit_outbox_write_pct_of_postgres_insert'], 1)}% of the "
            "PostgreSQL INSERT ceiling",
        ]
        for run in ("full_speed", "paced"):
            d = self.diagnostics.get(run)
            if d:
                lines.append(
                    f"kit {run.replace('_', ' ')}: relay {d['relay_batches']} batches of "
                    f"{d['relay_events_per_batch']} events; consumer {d['consumer_transactions']} transactions "
                    f"of {d['consumer_events_per_transaction']} events"
                )
        if "applied_rows" in self.diagnostics:
            lines.append(
                f"kit handler rows: {self.diagnostics['applied_rows']} = every event written, once "
                "(warm-up, full speed and paced)"
            )
        if "suite" in self.diagnostics:
            lines += self.diagnostics["suite"]["summary"]
        lines += ["", *(f"* {note}" for note in self.notes())]
        return "\n".join(lines)


def _fmt(value: float | None, digits: int, unit: str = "") -> str:
    return "-" if value is None else f"{value:,.{digits}f}{unit}"


async def _run_all(
    config: BenchConfig,
    postgres: EmbeddedPostgres,
    broker: TansuBroker,
    report: Report,
    suite: SuiteBenchConfig | None = None,
) -> None:
    loop = asyncio.get_running_loop()
    report.machine["event_loop"] = type(loop).__module__.split(".")[0]
    task = asyncio.current_task()

    def interrupted() -> None:
        # Ctrl-C reaches the servers too (same process group): what the clients log while
        # they wind down against dying servers is noise, not a finding.
        logging.disable(logging.CRITICAL)
        if task is not None:
            task.cancel()

    for signum in (signal.SIGINT, signal.SIGTERM):
        # No loop signal handlers off Unix or off the main thread: Ctrl-C then arrives as
        # KeyboardInterrupt, which main() handles the same way.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, interrupted)
    sample = _case_updated(uuid.uuid4(), 1).envelope(source=SOURCE, subject=str(uuid.uuid4()))
    dsn = f"postgresql://postgres@{postgres.host}:{postgres.port}/{BENCH_DATABASE}"

    async def database_phase() -> list[Measurement]:
        return [await postgres_ceiling(config, dsn, sample.to_bytes())]

    async def broker_phase() -> list[Measurement]:
        return await broker_ceiling(config, broker.bootstrap_servers, sample)

    async def kit_phase() -> list[Measurement]:
        run = await kit_pipeline(config, postgres.url(BENCH_DATABASE), broker.bootstrap_servers)
        report.diagnostics = run.diagnostics
        return run.measurements

    def service_phase(name: str, bench: ServiceBench) -> Callable[[], Coroutine[Any, Any, list[Measurement]]]:
        async def phase() -> list[Measurement]:
            return await run_service_bench(name, bench, postgres, broker.bootstrap_servers)

        return phase

    phases: list[tuple[str, Callable[[], Coroutine[Any, Any, list[Measurement]]]]] = [
        ("PostgreSQL ceiling (single-row INSERT transactions)", database_phase),
        ("broker ceiling (produce + consume)", broker_phase),
        ("kit (outbox -> relay -> broker -> idempotent consumer)", kit_phase),
    ]
    phases += [(f"{name} (its own bench)", service_phase(name, bench)) for name, bench in discover_benches()]
    if suite is not None:

        async def suite_phase() -> list[Measurement]:
            from omnicase.kit.bench_suite import suite_bench

            run = await suite_bench(
                suite,
                postgres,
                broker.bootstrap_servers,
                stall_timeout=config.stall_timeout,
                say=lambda line: print(line, flush=True),
            )
            report.diagnostics["suite"] = run.diagnostics
            return run.measurements

        phases.append(("the whole suite under intake and console load (omnicase up)", suite_phase))
    for title, phase in phases:
        print(f"- {title} …", flush=True)
        started = time.perf_counter()
        try:
            measured = await phase()
        except BenchError:
            raise
        except Exception as error:
            raise BenchError(f"{title} failed: {type(error).__name__}: {error}") from error
        report.measurements += measured
        print(f"  done in {time.perf_counter() - started:.1f}s", flush=True)


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop when installed, the loop uvicorn gives the services."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)


# -- machine information ------------------------------------------------------------------


def _read_first(path: str, prefix: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _read_loadavg() -> str | None:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return None


def _filesystem_of(path: Path) -> str:
    """Filesystem type holding ``path`` (tmpfs would make fsync meaningless, so say which)."""
    best, kind = "", "unknown"
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return kind
    resolved = str(path.resolve())
    for line in mounts:
        parts = line.split()
        if len(parts) < 3 or len(parts[1]) < len(best):
            continue
        if resolved == parts[1] or resolved.startswith(parts[1].rstrip("/") + "/"):
            best, kind = parts[1], parts[2]
    return kind


def _versions(*packages: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for package in packages:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found[package] = importlib.metadata.version(package)
    return found


def _broker_version() -> str:
    try:
        result = subprocess.run([broker_binary(), "--version"], capture_output=True, text=True, timeout=10)
        version = result.stdout.strip() or "tansu (version unknown)"
    except (OSError, subprocess.SubprocessError):
        version = "tansu (version unknown)"
    return f"{version} memory"


def _machine(postgres: EmbeddedPostgres) -> dict[str, Any]:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    memory = _read_first("/proc/meminfo", "MemTotal")
    return {
        "nproc": usable,
        "cpu": _read_first("/proc/cpuinfo", "model name") or platform.processor() or "unknown",
        "memory": memory,
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "loadavg_at_start": _read_loadavg(),
        "postgresql": postgres.psql("SELECT version()"),
        "postgresql_version": "PostgreSQL " + postgres.psql("SHOW server_version"),
        "postgresql_settings": {
            name: postgres.psql(f"SHOW {name}")
            for name in ("fsync", "synchronous_commit", "wal_sync_method", "shared_buffers", "max_connections")
        },
        "data_dir_filesystem": _filesystem_of(postgres.data_dir),
        "broker": _broker_version(),
        "libraries": _versions("asyncpg", "aiokafka", "SQLAlchemy", "pydantic", "uvloop"),
    }


# -- entry point ----------------------------------------------------------------------------


class _RepeatFilter(logging.Filter):
    """Let each distinct message through a few times: a dead broker makes aiokafka repeat itself per record."""

    def __init__(self, limit: int = 3) -> None:
        super().__init__()
        self.limit = limit
        self.seen: dict[tuple[str, str], int] = {}
        self.dropped = 0

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg))
        self.seen[key] = self.seen.get(key, 0) + 1
        if self.seen[key] > self.limit:
            self.dropped += 1
            return False
        return True


def _log_to_stderr() -> _RepeatFilter | None:
    """Warnings and errors of the kit and its clients on stderr, unless the caller set up logging."""
    root = logging.getLogger()
    if root.handlers:
        return None
    repeats = _RepeatFilter()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(repeats)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    return repeats


def main(events: int, output: str) -> int:
    """``omnicase bench``: run every measurement on fresh servers; 0 on success, 1 if one failed."""
    from omnicase.kit.bench_suite import SuiteBenchConfig

    try:
        config = BenchConfig.from_env(events, output)
        suite = SuiteBenchConfig.from_env()
    except BenchError as error:
        print(f"omnicase bench: {error}", file=sys.stderr)
        return 2
    repeats = _log_to_stderr()

    root = Path(tempfile.mkdtemp(prefix="omnicase-bench-"))
    postgres = EmbeddedPostgres(root / "data", port=free_port(), log_file=root / "postgres.log", durable=True)
    broker = TansuBroker(port=free_port(), log_file=root / "tansu.log")
    started = time.perf_counter()
    report: Report | None = None
    failure: str | None = None
    try:
        print(f"omnicase bench: starting PostgreSQL (durable) and Tansu in {root} …", flush=True)
        postgres.start()
        broker.start()
        postgres.ensure_database(BENCH_DATABASE)
        report = Report(config, _machine(postgres), datetime.now(UTC))
        _run(_run_all(config, postgres, broker, report, suite))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("omnicase bench: interrupted; servers stopped, nothing written", file=sys.stderr)
        return 130
    except BenchError as error:
        failure = str(error)
    except Exception as error:
        failure = f"{type(error).__name__}: {error}"
    finally:
        if failure is not None:
            _print_logs(postgres, root)
        broker.stop()
        postgres.stop()
        shutil.rmtree(root, ignore_errors=True)
        if repeats is not None:
            if repeats.dropped:
                print(f"({repeats.dropped} repeated log lines not shown)", file=sys.stderr)
            # Clients dropped mid-failure log again when collected at exit; the verdict below says it all.
            logging.disable(logging.CRITICAL)
    if failure is not None or report is None:
        print(f"omnicase bench failed: {failure}", file=sys.stderr)
        return 1

    report.seconds = time.perf_counter() - started
    print()
    print(report.table())
    print(f"\ntotal run time {report.seconds:.1f}s (server start and stop included)")
    try:
        config.output.mkdir(parents=True, exist_ok=True)
        path = config.output / f"kit-{report.started_at.strftime('%Y%m%dT%H%M%SZ')}.json"
        path.write_text(json.dumps(report.as_json(), indent=2) + "\n")
    except OSError as error:
        print(f"omnicase bench: could not write the results to {config.output}: {error}", file=sys.stderr)
        return 1
    print(f"results written to {path}")
    return 0


def _print_logs(postgres: EmbeddedPostgres, root: Path) -> None:
    tail = postgres.log_tail(10)
    if tail:
        print(f"--- PostgreSQL log (last lines) ---\n{tail}", file=sys.stderr)
    with contextlib.suppress(OSError):
        lines = (root / "tansu.log").read_text(errors="replace").splitlines()[-10:]
        if lines:
            print("--- Tansu log (last lines) ---\n" + "\n".join(lines), file=sys.stderr)
