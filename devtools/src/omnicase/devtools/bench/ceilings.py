"""The raw ceilings of a run's servers: single-row INSERTs on PostgreSQL, produce+consume on the broker."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from omnicase.devtools.bench.config import RAW_SCHEMA, BenchConfig
from omnicase.devtools.bench.measure import CpuMeter, CpuUsage, Measurement, await_with_progress
from omnicase.kit.bus.producer import envelope_headers
from omnicase.kit.events import Envelope
from omnicase.ops.topics import ensure_topics


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

    await await_with_progress(
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
    await await_with_progress(
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
