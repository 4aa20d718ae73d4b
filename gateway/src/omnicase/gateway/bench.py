"""The live stream's rows in ``omnicase bench``: many consoles listening through one gateway process.

A real gateway (``omnicase serve gateway``, its own process, stream on, rate limits off)
on the run's PostgreSQL and broker, ``BENCH_STREAM_CLIENTS`` (1,000) streams opened by one
admin token over raw HTTP/1.1 connections (the cheapest client there is, so the bench
process measures the gateway, not itself), then ``BENCH_STREAM_EVENTS`` (300) events
published at ``BENCH_STREAM_RATE`` per second, alternately ``case.created`` on
``case.events`` and ``offer.created`` on ``routing.events``. Latency is from the event's
envelope time (stamped as it is published) to its ``data`` line arriving at each stream.
Then half as many offers at the same rate are committed through an outbox like routing's
(a schema of its own) and published by the kit's relay, latency from each commit: what an
agent waits for an offer routing made. Every stream must receive every event. The
gateway's memory per stream is its resident size with every stream open, less its size
before the first one, over the streams.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import psutil
from sqlalchemy import text

from omnicase.devtools.bench.measure import CpuMeter, CpuUsage, Measurement
from omnicase.devtools.bench.services import BenchTarget
from omnicase.devtools.devstack.processes import free_port
from omnicase.kit.bus.producer import EventProducer
from omnicase.kit.clock import utcnow
from omnicase.kit.db import Database, create_engine, service_metadata
from omnicase.kit.events import CaseCreated, CaseSnapshot, EventData, OfferCreated
from omnicase.kit.outbox import Outbox, OutboxRelay, outbox_table
from omnicase.kit.topics import physical
from omnicase.ops.migrations import create_kit_tables
from omnicase.ops.topics import ensure_suite_topics

HOST = "127.0.0.1"
ADMIN = "bench-admin@example.test"
_EVENT_ID = b'"event_id":"'


@dataclass
class Listener:
    """One console's stream: when each event arrived."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    arrived: dict[str, float] = field(default_factory=dict)

    async def read(self) -> None:
        while line := await self.reader.readline():
            if line.startswith(b"data: "):
                at = time.time()
                start = line.find(_EVENT_ID) + len(_EVENT_ID)
                self.arrived[line[start : start + 36].decode()] = at


async def _open(port: int, token: str) -> Listener:
    reader, writer = await asyncio.open_connection(HOST, port, limit=1 << 20)
    writer.write(
        (
            f"GET /api/v1/stream?types=case.created,offer.created HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
            f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
        ).encode()
    )
    status = await reader.readline()
    if b" 200 " not in status:
        writer.close()
        raise RuntimeError(f"the stream answered {status.decode().strip()}")
    while (await reader.readline()) not in (b"\r\n", b""):
        pass
    return Listener(reader, writer)


async def _start_gateway(target: BenchTarget, prefix: str, port: int, password: str) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "DATABASE_URL": target.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": target.bootstrap_servers,
        "OMNICASE_TOPIC_PREFIX": prefix,
        "OMNICASE_SERVICE_URLS": "{}",
        "GATEWAY_PORT": str(port),
        "GATEWAY_RATE_LIMIT_ENABLED": "false",
        "OMNICASE_BOOTSTRAP_ADMIN_EMAIL": ADMIN,
        "OMNICASE_BOOTSTRAP_ADMIN_PASSWORD": password,
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "omnicase.cli",
        "serve",
        "gateway",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def _login(port: int, password: str) -> str:
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=10) as client:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = await client.post(
                    "/api/v1/auth/token", data={"grant_type": "password", "username": ADMIN, "password": password}
                )
                if answer.status_code == 200:
                    return str(answer.json()["access_token"])
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the bench gateway never let its admin log in")
            await asyncio.sleep(0.5)


async def _first_stream(port: int, token: str) -> Listener:
    """The first stream, once the gateway's reader has reached the broker (503 until then)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return await _open(port, token)
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


def _events(count: int) -> list[EventData]:
    now = utcnow()
    events: list[EventData] = []
    for number in range(count):
        case_id = uuid.uuid4()
        if number % 2 == 0:
            snapshot = CaseSnapshot(
                case_id=case_id,
                number=number + 1,
                subject=f"Order {number} never arrived",
                status="new",
                priority="normal",
                channel="email",
                requester_id=uuid.uuid4(),
                group_id=uuid.uuid4(),
                created_at=now,
                updated_at=now,
                version=1,
            )
            events.append(CaseCreated(case=snapshot, description="Where is my parcel?"))
        else:
            events.append(
                OfferCreated(
                    offer_id=uuid.uuid4(),
                    case_id=case_id,
                    agent_id=uuid.uuid4(),
                    group_id=uuid.uuid4(),
                    expires_at=now + timedelta(seconds=30),
                    created_at=now,
                )
            )
    return events


async def _publish(
    producer: EventProducer, prefix: str, events: list[EventData], rate: float
) -> dict[str, tuple[str, float]]:
    """Publish at ``rate``/s; each event's id → (type, envelope time as epoch seconds)."""
    published: dict[str, tuple[str, float]] = {}
    started = time.monotonic()
    for number, data in enumerate(events):
        await asyncio.sleep(max(0.0, started + number / rate - time.monotonic()))
        key = str(getattr(data, "case_id", None) or uuid.uuid4())
        envelope = data.envelope(source="bench", subject=key)
        published[str(envelope.id)] = (envelope.type, envelope.time.timestamp())
        await producer.publish(physical(data.topic, prefix), envelope, key=key)
    return published


@asynccontextmanager
async def _routing_outbox(
    target: BenchTarget, producer: EventProducer, prefix: str
) -> AsyncIterator[tuple[Outbox, Database]]:
    """An outbox like routing's, in a schema of its own, with the kit's relay publishing it."""
    schema = f"bench_stream_{uuid.uuid4().hex[:8]}"
    engine = create_engine(target.database_url, pool_size=4, application_name="omnicase-bench-stream")
    database = Database(engine)
    table = outbox_table(service_metadata(schema))
    async with engine.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        await connection.run_sync(create_kit_tables, schema)
    relay = OutboxRelay(database, producer, table, topic_prefix=prefix)
    relay.start()
    try:
        yield Outbox(table), database
    finally:
        await relay.stop()
        async with engine.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await engine.dispose()


async def _commit_offers(outbox: Outbox, database: Database, count: int, rate: float) -> dict[str, tuple[str, float]]:
    """Offers committed through the outbox at ``rate``/s, as routing makes them; id → (type, commit time)."""
    committed: dict[str, tuple[str, float]] = {}
    started = time.monotonic()
    offers = [data for data in _events(2 * count) if isinstance(data, OfferCreated)]
    for number, offer in enumerate(offers):
        await asyncio.sleep(max(0.0, started + number / rate - time.monotonic()))
        key = str(offer.case_id)
        async with database.unit_of_work() as session:
            envelope = await outbox.add(session, offer, source="routing", subject=key, key=key)
        committed[str(envelope.id)] = ("committed offer", time.time())
    return committed


async def _delivered(listeners: list[Listener], expected: set[str], stall: float) -> None:
    """Wait until every stream has every event, or nothing new arrived for ``stall`` seconds."""
    last, quiet_since = -1, time.monotonic()
    while True:
        got = sum(len(expected & listener.arrived.keys()) for listener in listeners)
        if got == len(expected) * len(listeners):
            return
        if got != last:
            last, quiet_since = got, time.monotonic()
        elif time.monotonic() - quiet_since > stall:
            return
        await asyncio.sleep(0.2)


async def measure(target: BenchTarget) -> list[Measurement]:
    clients = target.size("BENCH_STREAM_CLIENTS", 1000)
    count = target.size("BENCH_STREAM_EVENTS", 300)
    rate = target.size("BENCH_STREAM_RATE", 10)
    prefix = f"stream{uuid.uuid4().hex[:8]}."
    await ensure_suite_topics(target.bootstrap_servers, prefix=prefix, partitions=4)
    port, password = free_port(), secrets.token_urlsafe(18)
    gateway = await _start_gateway(target, prefix, port, password)
    producer = EventProducer(target.bootstrap_servers, client_id="bench-stream")
    listeners: list[Listener] = []
    tasks: list[asyncio.Task[None]] = []
    try:
        await producer.start()
        token = await _login(port, password)
        process = psutil.Process(gateway.pid)
        listeners.append(await _first_stream(port, token))
        # Warm-up: the feed, the first stream's path and the producer, end to end.
        tasks.append(asyncio.create_task(listeners[0].read()))
        warm = await _publish(producer, prefix, _events(4), 20)
        await _delivered(listeners, set(warm), 10)
        before = process.memory_info().rss
        for start in range(1, clients, 100):
            listeners += await asyncio.gather(*(_open(port, token) for _ in range(start, min(start + 100, clients))))
        tasks += [asyncio.create_task(listener.read()) for listener in listeners[1:]]
        await asyncio.sleep(1.0)
        per_stream_kb = (process.memory_info().rss - before) / (len(listeners) - 1) / 1024
        meter, gateway_before = CpuMeter(), process.cpu_times()
        started = time.perf_counter()
        published = await _publish(producer, prefix, _events(count), rate)
        await _delivered(listeners, set(published), 15)
        seconds = time.perf_counter() - started
        cpu = meter.usage()
        gateway_after = process.cpu_times()
        gateway_cpu = 100 * (gateway_after.user + gateway_after.system - gateway_before.user - gateway_before.system)
        gateway_cpu /= seconds
        # The same streams, offers committed through an outbox and published by the kit's relay.
        async with _routing_outbox(target, producer, prefix) as (outbox, database):
            relayed_started = time.perf_counter()
            committed = await _commit_offers(outbox, database, count // 2, rate)
            await _delivered(listeners, set(committed), 15)
            relayed_seconds = time.perf_counter() - relayed_started
    finally:
        for task in tasks:
            task.cancel()
        for listener in listeners:
            listener.writer.close()
        await producer.stop()
        gateway.terminate()
        await gateway.wait()
    rows = [
        _row(listeners, published, "case.created", "case event", seconds, "published on the broker", cpu),
        _row(listeners, published, "offer.created", "offer", seconds, "published on the broker", cpu),
        _row(listeners, committed, "committed offer", "offer committed", relayed_seconds, "its outbox commit", None),
    ]
    note = f"{rate} events/s; gateway {per_stream_kb:.1f} KB per open stream, {gateway_cpu:.0f}% of one core"
    for row in rows:
        row.latency_from += f" ({note})"
    return rows


def _row(
    listeners: list[Listener],
    sent: dict[str, tuple[str, float]],
    kind: str,
    label: str,
    seconds: float,
    since: str,
    cpu: CpuUsage | None,
) -> Measurement:
    ids = [event_id for event_id, (event_kind, _) in sent.items() if event_kind == kind]
    latencies = [
        (listener.arrived[event_id] - sent[event_id][1]) * 1000
        for listener in listeners
        for event_id in ids
        if event_id in listener.arrived
    ]
    missed = len(ids) * len(listeners) - len(latencies)
    return Measurement(
        f"gateway_stream_{label.replace(' ', '_')}",
        f"gateway: {label} -> {len(listeners)} streams",
        len(latencies),
        seconds,
        latencies,
        f"{since} -> data line read by each of {len(listeners)} streams",
        cpu=cpu,
        errors={"missed": missed} if missed else {},
        compare_to_ceiling=False,
    )


async def bench(target: BenchTarget) -> list[Measurement]:
    """The gateway's rows in ``omnicase bench`` (entry point ``omnicase.benches``)."""
    return await measure(target)
