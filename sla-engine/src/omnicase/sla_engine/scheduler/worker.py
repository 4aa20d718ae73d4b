"""The timer worker: fires due timers, any number of replicas sharing one table.

One round:

1. **claim** (own transaction, committed at once): lease up to ``batch_size`` due
   timers of the kinds this worker knows, earliest first, ``FOR UPDATE SKIP LOCKED``
   so replicas never claim the same row. A worker that dies after this leaves only
   a lease, which expires after ``lease_seconds``; the timer is then claimed again.
2. **fire**, in up to ``concurrency`` transactions (timers split by case, so one
   case's timers stay in one transaction, in due order). Each transaction first
   locks the timers that still carry our lease (:meth:`TimerRepository.hold`: a
   worker whose lease ran out must not fire a timer another worker re-claimed), then
   takes their cases' rows *without waiting* (a case a consumer is changing right
   now is deferred to the next round, with its later timers, so the worker never
   waits on a lock and cannot deadlock with consumers), runs the handlers, writes
   their events (buffered: one ``INSERT`` for the batch) and deletes the fired
   timers; one commit for the lot, so a timer's effect and its deletion happen
   together, exactly once.
   Kinds marked ``own_transaction`` (webhook deliveries: slow, remote) each get a
   transaction of their own instead, so they hold up nothing else.
3. A handler that raises makes the batch run again with a savepoint per timer; the
   failing timer is given back with exponential backoff and dropped (logged) after
   ``max_attempts``.

Due times are compared with the kit clock, so tests drive time. Waiting between
rounds is real time (``poll_interval``, or at once when a round was full, or when
:meth:`wake` is called), so a timer fires within about ``poll_interval`` of due.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
import zlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.clock import utcnow
from omnicase.kit.db import Database
from omnicase.kit.outbox import Outbox
from omnicase.sla_engine.events_out import BufferedOutbox, EventSink
from omnicase.sla_engine.scheduler.repository import ClaimedTimer, TimerRepository

logger = logging.getLogger(__name__)

# Handlers stage their events in the sink they are given (buffered for the batch).
TimerHandler = Callable[[AsyncSession, ClaimedTimer, EventSink], Awaitable[None]]
# Lock the case rows nobody else holds, without waiting; returns the ones held elsewhere (busy).
CaseLocks = Callable[[AsyncSession, set[uuid.UUID]], Awaitable[set[uuid.UUID]]]


Failure = tuple[ClaimedTimer, Exception]


class _HandlerFailed(Exception):
    """A handler raised in a batch run without savepoints: run it again carefully."""


@dataclass(frozen=True)
class TimerKind:
    """How to fire one kind of timer."""

    handler: TimerHandler
    # Lock the case row first (kinds that change a case's SLA state).
    locks_case: bool = True
    # Slow remote work (webhooks): a transaction of its own, outside the batch.
    own_transaction: bool = False


@dataclass(frozen=True)
class WorkerConfig:
    batch_size: int = 200
    lease_seconds: float = 30.0
    poll_interval: float = 0.25
    concurrency: int = 4
    max_attempts: int = 10
    backoff_initial: float = 1.0
    backoff_max: float = 600.0


class TimerWorker:
    def __init__(
        self,
        database: Database,
        outbox: Outbox,
        kinds: Mapping[str, TimerKind],
        *,
        lock_cases: CaseLocks | None = None,
        config: WorkerConfig | None = None,
    ) -> None:
        self.database = database
        self.outbox = outbox
        self.kinds = dict(kinds)
        self.lock_cases = lock_cases
        self.config = config or WorkerConfig()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._solo = asyncio.Semaphore(self.config.concurrency)
        self.failure: BaseException | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="sla-timer-worker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        delay = self.config.poll_interval
        while True:
            try:
                claimed = await self.run_once()
                delay = self.config.poll_interval
            except asyncio.CancelledError:
                raise
            except Exception as error:
                # The database restarting, say: keep going, slower. Leased timers come back when leases end.
                self.failure = error
                logger.exception("timer round failed")
                claimed = 0
                delay = min(delay * 2, 5.0)
            if claimed >= self.config.batch_size:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)

    async def run_once(self) -> int:
        """One claim-and-fire round; returns how many timers were claimed."""
        now = utcnow()
        lease = now + timedelta(seconds=self.config.lease_seconds)
        async with self.database.unit_of_work() as session:
            claimed = await TimerRepository(session).claim(now, lease, self.config.batch_size, self.kinds)
        groups: list[list[ClaimedTimer]] = [[] for _ in range(self.config.concurrency)]
        solo: list[ClaimedTimer] = []
        for timer in claimed:  # already in due order
            if self.kinds[timer.kind].own_transaction:
                solo.append(timer)
            else:
                # One case always lands in the same group: its timers keep their order.
                slot = zlib.crc32(str(timer.case_id or timer.id).encode()) % self.config.concurrency
                groups[slot].append(timer)
        results = await asyncio.gather(
            *(self.fire_batch(group) for group in groups if group),
            *(self._fire_solo(timer) for timer in solo),
            return_exceptions=True,
        )
        # Every part has finished before a failure is reported: no round overlaps the next.
        for result in results:
            if isinstance(result, BaseException):
                raise result
        self.failure = None
        return len(claimed)

    async def fire_batch(self, batch: Sequence[ClaimedTimer]) -> None:
        """Fire claimed timers in one transaction (those still ours); give failures back.

        Handlers run without savepoints first (they rarely fail and a savepoint costs two
        round trips a timer); if one raises, the transaction is rolled back and the batch
        runs again with a savepoint around each handler, so only the failing timer fails.
        """
        try:
            failed, skipped = await self._fire_batch(batch, careful=False)
        except _HandlerFailed:
            failed, skipped = await self._fire_batch(batch, careful=True)
        if skipped:
            # Locked by a consumer rescheduling them: back for the next round, once we hold nothing.
            async with self.database.unit_of_work() as session:
                await TimerRepository(session).unlease(skipped)
        if failed:
            await self._give_back(failed)

    async def _fire_batch(
        self, batch: Sequence[ClaimedTimer], *, careful: bool
    ) -> tuple[list[Failure], list[ClaimedTimer]]:
        failed: list[Failure] = []
        async with self.database.unit_of_work() as session:
            repository = TimerRepository(session)
            held = await repository.hold(batch)
            # Not held: lease lost (another worker owns it) or locked right now (given back after commit).
            mine = [timer for timer in batch if timer.id in held]
            skipped = [timer for timer in batch if timer.id not in held]
            # A case with a timer skipped, held elsewhere, or failed fires nothing more this round: order.
            busy = {timer.case_id for timer in skipped if timer.case_id is not None}
            if self.lock_cases is not None:
                busy |= await self.lock_cases(
                    session,
                    {t.case_id for t in mine if t.case_id is not None and self.kinds[t.kind].locks_case} - busy,
                )
            events = BufferedOutbox(self.outbox)
            done: list[ClaimedTimer] = []
            deferred: list[ClaimedTimer] = []
            for timer in mine:
                if timer.case_id is not None and timer.case_id in busy:
                    deferred.append(timer)  # a consumer holds the case: next round, with its later timers
                    continue
                handler = self.kinds[timer.kind].handler
                mark = events.mark()
                try:
                    if careful:
                        async with session.begin_nested():
                            await handler(session, timer, events)
                    else:
                        await handler(session, timer, events)
                except Exception as error:
                    if not careful:
                        raise _HandlerFailed from error
                    events.discard_from(mark)
                    failed.append((timer, error))
                    if timer.case_id is not None:
                        busy.add(timer.case_id)  # its later timers wait for it
                    continue
                done.append(timer)
            await events.flush(session)
            await repository.complete(done)
            await repository.unlease(deferred)
        return failed, skipped

    async def _fire_solo(self, timer: ClaimedTimer) -> None:
        async with self._solo:
            try:
                async with self.database.unit_of_work() as session:
                    repository = TimerRepository(session)
                    if not await repository.hold([timer]):
                        return  # lease lost, or being rescheduled: its new due time stands
                    events = BufferedOutbox(self.outbox)
                    await self.kinds[timer.kind].handler(session, timer, events)
                    await events.flush(session)
                    await repository.complete([timer])
            except asyncio.CancelledError:
                raise
            except Exception as error:
                await self._give_back([(timer, error)])

    async def _give_back(self, failed: Sequence[Failure]) -> None:
        async with self.database.unit_of_work() as session:
            repository = TimerRepository(session)
            for timer, error in failed:
                detail = {"timer": timer.key, "error": repr(error)[:500]}
                if timer.attempts >= self.config.max_attempts:
                    logger.error("timer dropped after %d attempts", timer.attempts, extra=detail)
                    await repository.complete([timer])
                    continue
                backoff = min(self.config.backoff_initial * 2 ** (timer.attempts - 1), self.config.backoff_max)
                logger.warning("timer failed; retrying in %.0f s", backoff, extra=detail)
                await repository.release(timer, utcnow() + timedelta(seconds=backoff))
