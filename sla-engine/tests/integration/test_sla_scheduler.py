"""The timer worker against real PostgreSQL: replicas, leases, downtime, failures."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.devtools.testing.clock import ManualClock
from omnicase.devtools.testing.plugin import eventually
from omnicase.kit.db import Database, create_engine
from omnicase.kit.events import CaseSnapshot, CaseStatus, Channel, Envelope, Priority, SlaThresholdReached
from omnicase.kit.outbox import Outbox
from omnicase.sla_engine.events_out import EventSink
from omnicase.sla_engine.models import cases, outbox, timers
from omnicase.sla_engine.scheduler.repository import ClaimedTimer, TimerRepository
from omnicase.sla_engine.scheduler.worker import TimerKind, TimerWorker, WorkerConfig
from omnicase.sla_engine.tracking.repository import CaseState, TrackingRepository

pytestmark = pytest.mark.asyncio

OUTBOX = Outbox(outbox)


@pytest.fixture
def kind() -> str:
    """A timer kind only this test's workers claim (the timers table is shared and committed)."""
    return f"probe-{uuid.uuid4().hex[:10]}"


@pytest_asyncio.fixture
async def databases(database_url: str, kind: str) -> AsyncIterator[list[Database]]:
    """Three independent connection pools, as three replicas would have."""
    pools = [Database(create_engine(database_url, pool_size=3)) for _ in range(3)]
    try:
        yield pools
    finally:
        async with pools[0].unit_of_work() as session:
            await session.execute(delete(timers).where(timers.c.kind == kind))
        for pool in pools:
            await pool.dispose()


class Recorder:
    def __init__(self) -> None:
        self.fired: list[str] = []
        self.failing_attempts = 0  # attempts (1, 2, …) that raise
        self.case_id = uuid.uuid4()  # the key of the events it writes

    async def __call__(self, session: AsyncSession, timer: ClaimedTimer, events: EventSink) -> None:
        await asyncio.sleep(0)  # let other replicas interleave
        event = SlaThresholdReached(
            case_id=self.case_id, policy_id=self.case_id, milestone=timer.key, level="breach", due_at=timer.due_at
        )
        await events.add(session, event, source="test", subject=timer.key, key=str(self.case_id))
        if timer.attempts <= self.failing_attempts:
            raise RuntimeError("receiver down")
        self.fired.append(timer.key)

    async def events(self, database: Database) -> list[str]:
        async with database.unit_of_work() as session:
            rows = await session.execute(
                select(outbox.c.payload).where(outbox.c.key == str(self.case_id)).order_by(outbox.c.id)
            )
            return [Envelope.from_bytes(row.payload).subject for row in rows]


@pytest_asyncio.fixture
async def recorder(databases: list[Database]) -> AsyncIterator[Recorder]:
    probe = Recorder()
    yield probe
    # Its events are committed; no relay of a later test should publish them.
    async with databases[0].unit_of_work() as session:
        await session.execute(delete(outbox).where(outbox.c.key == str(probe.case_id)))


async def seed(database: Database, kind: str, dues: list[datetime], case_id: uuid.UUID | None = None) -> list[str]:
    keys = [f"{kind}:{index}" for index in range(len(dues))]
    async with database.unit_of_work() as session:
        repository = TimerRepository(session)
        for key, due in zip(keys, dues, strict=True):
            await repository.schedule(key, kind, due, case_id=case_id)
    return keys


async def remaining(database: Database, kind: str) -> list[tuple[str, datetime, int]]:
    async with database.unit_of_work() as session:
        rows = await session.execute(
            select(timers.c.key, timers.c.due_at, timers.c.attempts).where(timers.c.kind == kind)
        )
        return [(row.key, row.due_at, row.attempts) for row in rows]


def worker(database: Database, kind: str, recorder: Recorder, **config: Any) -> TimerWorker:
    return TimerWorker(database, OUTBOX, {kind: TimerKind(recorder, locks_case=False)}, config=WorkerConfig(**config))


async def drain(replica: TimerWorker) -> None:
    while await replica.run_once():
        pass


async def test_replicas_sharing_timers_fire_each_exactly_once(
    databases: list[Database], kind: str, clock: ManualClock, recorder: Recorder
) -> None:
    keys = await seed(databases[0], kind, [clock.now() - timedelta(seconds=n) for n in range(300)])
    replicas = [worker(database, kind, recorder, batch_size=20) for database in databases]
    await asyncio.gather(*(drain(replica) for replica in replicas))
    assert Counter(recorder.fired) == Counter(keys)
    assert Counter(await recorder.events(databases[0])) == Counter(keys)
    assert await remaining(databases[0], kind) == []


async def test_a_timer_not_yet_due_waits(
    databases: list[Database], kind: str, clock: ManualClock, recorder: Recorder
) -> None:
    [key] = await seed(databases[0], kind, [clock.now() + timedelta(minutes=5)])
    replica = worker(databases[0], kind, recorder)
    assert await replica.run_once() == 0
    await clock.advance(300)
    assert await replica.run_once() == 1
    assert recorder.fired == [key]


async def test_a_dead_workers_lease_expires_and_the_timer_fires_once(
    databases: list[Database], kind: str, clock: ManualClock, recorder: Recorder
) -> None:
    [key] = await seed(databases[0], kind, [clock.now()])
    async with databases[1].unit_of_work() as session:  # a worker claims it, then dies
        [lost] = await TimerRepository(session).claim(clock.now(), clock.now() + timedelta(seconds=30), 10, [kind])
    survivor = worker(databases[0], kind, recorder, lease_seconds=30)
    assert await survivor.run_once() == 0  # leased: not touched
    await clock.advance(31)
    assert await survivor.run_once() == 1
    assert recorder.fired == [key]

    # The "dead" worker wakes up late and tries to fire what it claimed: its lease is gone.
    late = worker(databases[1], kind, recorder)
    await late.fire_batch([lost])
    assert recorder.fired == [key]


async def test_overdue_timers_fire_once_in_due_order_after_downtime(
    databases: list[Database], kind: str, clock: ManualClock, recorder: Recorder
) -> None:
    now = clock.now()
    case_id = uuid.uuid4()
    hours_ago = [5, 1, 3, 48, 2]
    keys = await seed(databases[0], kind, [now - timedelta(hours=hours) for hours in hours_ago], case_id=case_id)
    replica = worker(databases[0], kind, recorder)
    await drain(replica)
    await drain(replica)
    by_due = [key for _, key in sorted(zip(hours_ago, keys, strict=True), reverse=True)]
    assert recorder.fired == by_due


async def test_a_failing_timer_is_retried_with_backoff_and_its_effect_happens_once(
    databases: list[Database], kind: str, clock: ManualClock, recorder: Recorder
) -> None:
    recorder.failing_attempts = 2
    [key] = await seed(databases[0], kind, [clock.now()])
    replica = worker(databases[0], kind, recorder, backoff_initial=10)
    await replica.run_once()
    [(_, due, attempts)] = await remaining(databases[0], kind)
    assert (due, attempts) == (clock.now() + timedelta(seconds=10), 1)
    await clock.advance(10)
    await replica.run_once()
    [(_, due, attempts)] = await remaining(databases[0], kind)
    assert (due, attempts) == (clock.now() + timedelta(seconds=20), 2)  # doubled
    assert await recorder.events(databases[0]) == []  # a failed attempt leaves nothing behind
    await clock.advance(20)
    await replica.run_once()
    assert recorder.fired == [key]
    assert await recorder.events(databases[0]) == [key]
    assert await remaining(databases[0], kind) == []


async def test_a_timer_that_keeps_failing_is_dropped_after_its_attempts(
    databases: list[Database], kind: str, clock: ManualClock, recorder: Recorder
) -> None:
    recorder.failing_attempts = 100
    await seed(databases[0], kind, [clock.now()])
    replica = worker(databases[0], kind, recorder, backoff_initial=1, max_attempts=3)
    for _ in range(3):
        await replica.run_once()
        await clock.advance(10)
    assert await remaining(databases[0], kind) == []
    assert recorder.fired == []


async def test_the_running_worker_fires_a_timer_once_time_reaches_it(
    databases: list[Database], kind: str, clock: ManualClock, recorder: Recorder
) -> None:
    [key] = await seed(databases[0], kind, [clock.now() + timedelta(hours=1)])
    replica = worker(databases[0], kind, recorder, poll_interval=0.05)
    replica.start()
    try:
        await asyncio.sleep(0.2)
        assert recorder.fired == []
        await clock.advance(3600)

        async def fired() -> bool:
            return recorder.fired == [key]

        await eventually(fired, within=10, message="timer fired")
        assert replica.running
    finally:
        await replica.stop()


async def test_a_case_another_transaction_holds_is_deferred_not_waited_for(
    databases: list[Database], kind: str, clock: ManualClock, recorder: Recorder
) -> None:
    now = clock.now()
    held_case, free_case = uuid.uuid4(), uuid.uuid4()
    snapshot = CaseSnapshot(
        case_id=held_case,
        number=1,
        subject="s",
        status=CaseStatus.OPEN,
        priority=Priority.NORMAL,
        channel=Channel.EMAIL,
        created_at=now,
        updated_at=now,
        version=1,
    )
    async with databases[0].unit_of_work() as session:
        await TrackingRepository(session).save_case(CaseState(held_case, 1, snapshot, CaseStatus.OPEN, now, None))
    first, second = await seed(databases[0], kind, [now - timedelta(minutes=2), now - timedelta(minutes=1)], held_case)
    free = f"{kind}:free"
    async with databases[0].unit_of_work() as session:
        await TimerRepository(session).schedule(free, kind, now - timedelta(minutes=3), case_id=free_case)

    async def lock_cases(session: AsyncSession, case_ids: set[uuid.UUID]) -> set[uuid.UUID]:
        return await TrackingRepository(session).lock_cases_free(case_ids)

    replica = TimerWorker(databases[0], OUTBOX, {kind: TimerKind(recorder)}, lock_cases=lock_cases)
    try:
        async with databases[1].unit_of_work() as consumer:  # a consumer is changing the case right now
            await TrackingRepository(consumer).lock_case(held_case)
            await asyncio.wait_for(replica.run_once(), timeout=10)  # does not wait for it
            assert recorder.fired == [free]
        await drain(replica)
        assert recorder.fired == [free, first, second]
    finally:
        async with databases[0].unit_of_work() as session:
            await session.execute(delete(cases).where(cases.c.case_id == held_case))
