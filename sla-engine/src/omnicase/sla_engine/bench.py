"""Scheduler lag benchmark: many active timers, a steady stream of them coming due.

``python -m omnicase.sla_engine.bench [--active 1000000] [--rate 1000] [--seconds 30] [--replicas 2]``
starts its own durable PostgreSQL in a temporary directory, migrates this service's
schema, seeds ``--active`` timers of which ``rate x seconds`` fall due at ``--rate`` per
second (the rest are weeks away, as open cases' timers are), runs ``--replicas`` timer
workers and reports the lag from each timer's due time to the commit of its firing
(p50, p99, max) and the rate achieved. Firing does what an SLA breach does to the
database: lock the case row, check the lease, write one outbox event, delete the timer.
:func:`timer_lag` is the measurement alone, for ``omnicase bench`` to call on its own servers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import shutil
import sys
import tempfile
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.devtools.bench.measure import Measurement
from omnicase.devtools.bench.services import BenchTarget
from omnicase.kit.clock import utcnow
from omnicase.kit.db import Database, create_engine
from omnicase.kit.events import SlaThresholdReached
from omnicase.kit.outbox import Outbox
from omnicase.sla_engine.events_out import EventSink
from omnicase.sla_engine.models import outbox
from omnicase.sla_engine.scheduler.repository import ClaimedTimer
from omnicase.sla_engine.scheduler.worker import TimerKind, TimerWorker, WorkerConfig
from omnicase.sla_engine.service import SPEC
from omnicase.sla_engine.tracking.repository import TrackingRepository

BENCH_KIND = "bench"
LEAD_SECONDS = 5.0


@dataclass
class TimerLag:
    active: int
    due: int
    fired: int
    rate_target: float
    rate_achieved: float | None
    lag_p50_ms: float | None
    lag_p99_ms: float | None
    lag_max_ms: float | None
    replicas: int


def _percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


_SEED = text(
    """
    INSERT INTO sla_engine.timers (key, kind, case_id, due_at, payload)
    SELECT 'bench:' || g, :kind, md5(g::text)::uuid,
           CASE WHEN g <= CAST(:due AS bigint)
                THEN CAST(:start AS timestamptz) + ((g - 1) / CAST(:rate AS float8)) * interval '1 second'
                ELSE CAST(:start AS timestamptz) + interval '7 days' + (g % 2592000) * interval '1 second'
           END,
           jsonb_build_object('milestone_id', md5(g::text)::uuid, 'level', 'breach')
    FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS g
    """
)


async def _seed_idle(database: Database, active: int, due: int) -> None:
    """The timers that are not due during the run (weeks away), in one statement."""
    async with database.unit_of_work() as session:
        await session.execute(
            _SEED,
            {"kind": BENCH_KIND, "due": due, "rate": 1.0, "start": utcnow(), "first": due + 1, "last": active},
        )
    async with database.engine.connect() as connection:
        await connection.execute(text("ANALYZE sla_engine.timers"))


async def _seed_due(database: Database, due: int, rate: float, start: datetime) -> None:
    """The timers that come due at ``rate`` per second from ``start``."""
    async with database.unit_of_work() as session:
        await session.execute(
            _SEED, {"kind": BENCH_KIND, "due": due, "rate": float(rate), "start": start, "first": 1, "last": due}
        )


async def timer_lag(
    database_url: str,
    *,
    active: int,
    rate: float,
    seconds: float,
    replicas: int = 2,
    concurrency: int = 8,
    max_wait: float = 120,
) -> TimerLag:
    """Measure on ``database_url`` (sla-engine migrated); removes its timers and events afterwards."""
    due = int(rate * seconds)
    lags: list[float] = []
    all_fired = asyncio.Event()
    pools = [Database(create_engine(database_url, pool_size=concurrency + 2)) for _ in range(replicas)]
    events = Outbox(outbox)

    async def fire(session: AsyncSession, timer: ClaimedTimer, sink: EventSink) -> None:
        event = SlaThresholdReached(
            case_id=timer.case_id or uuid.uuid4(),
            policy_id=timer.case_id or uuid.uuid4(),
            milestone="first_reply",
            level="breach",
            due_at=timer.due_at,
        )
        await sink.add(session, event, source=SPEC.name, subject=str(event.case_id), key=str(event.case_id))
        # Measured at the handler; the commit follows within the same call.
        lags.append((utcnow() - timer.due_at).total_seconds() * 1000)
        if len(lags) >= due:
            all_fired.set()

    async def lock_cases(session: AsyncSession, case_ids: set[uuid.UUID]) -> set[uuid.UUID]:
        return await TrackingRepository(session).lock_cases_free(case_ids)

    workers = [
        TimerWorker(
            pool,
            events,
            {BENCH_KIND: TimerKind(fire)},
            lock_cases=lock_cases,
            config=WorkerConfig(poll_interval=0.1, batch_size=500, concurrency=concurrency),
        )
        for pool in pools
    ]
    try:
        await _seed_idle(pools[0], active, due)
        # Counted from after the (long) bulk seeding, so lag measures the scheduler only.
        start = utcnow() + timedelta(seconds=LEAD_SECONDS)
        await _seed_due(pools[0], due, rate, start)
        for worker in workers:
            worker.start()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_fired.wait(), timeout=LEAD_SECONDS + seconds + max_wait)
        finished = utcnow()
    finally:
        for worker in workers:
            await worker.stop()
        async with pools[0].unit_of_work() as session:
            await session.execute(text("DELETE FROM sla_engine.timers WHERE kind = :kind"), {"kind": BENCH_KIND})
            await session.execute(text("DELETE FROM sla_engine.outbox WHERE event_type = 'sla.threshold_reached'"))
        for pool in pools:
            await pool.dispose()
    elapsed = (finished - start).total_seconds()
    return TimerLag(
        active=active,
        due=due,
        fired=len(lags),
        rate_target=rate,
        rate_achieved=round(len(lags) / elapsed, 1) if elapsed > 0 else None,
        lag_p50_ms=_percentile(lags, 50),
        lag_p99_ms=_percentile(lags, 99),
        lag_max_ms=max(lags) if lags else None,
        replicas=replicas,
    )


async def bench(target: BenchTarget) -> list[Measurement]:
    """sla-engine's row in ``omnicase bench`` (entry point ``omnicase.benches``)."""
    active = target.size("BENCH_SLA_TIMERS", 1_000_000)
    rate = target.size("BENCH_SLA_RATE", 1000)
    seconds = target.size("BENCH_SLA_SECONDS", 10)
    result = await timer_lag(target.database_url, active=active, rate=rate, seconds=seconds)
    if result.fired < result.due:
        raise RuntimeError(f"only {result.fired} of {result.due} due timers fired")
    return [
        Measurement(
            "sla_timer_lag",
            f"sla: timers fired among {active:,} ({result.replicas} workers, due at {rate}/s)",
            result.fired,
            result.fired / result.rate_achieved if result.rate_achieved else None,
            latency_from="due time to the firing transaction (lag)",
            fixed_percentiles={
                name: value
                for name, value in (("p50", result.lag_p50_ms), ("p99", result.lag_p99_ms))
                if value is not None
            },
        )
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--active", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8, help="transactions in flight per replica")
    args = parser.parse_args(argv)

    from omnicase.devtools.devstack.postgres import EmbeddedPostgres
    from omnicase.devtools.devstack.processes import free_port
    from omnicase.ops.migrations import upgrade

    root = Path(tempfile.mkdtemp(prefix="omnicase-sla-bench-"))
    postgres = EmbeddedPostgres(root / "data", port=free_port(), log_file=root / "postgres.log", durable=True)
    try:
        postgres.start()
        postgres.ensure_database("omnicase_bench")
        url = postgres.url("omnicase_bench")
        upgrade(SPEC, url)
        result = asyncio.run(
            timer_lag(
                url,
                active=args.active,
                rate=args.rate,
                seconds=args.seconds,
                replicas=args.replicas,
                concurrency=args.concurrency,
            )
        )
    finally:
        postgres.stop()
        shutil.rmtree(root, ignore_errors=True)
    sys.stdout.write(json.dumps({"sla_timer_lag": asdict(result), "at": datetime.now(UTC).isoformat()}) + "\n")
    return 0 if result.fired == result.due else 1


if __name__ == "__main__":
    raise SystemExit(main())
