"""Watches the suite turn the bench's messages into cases, from outside every service.

- **Case created / assigned**: a consumer in a group of its own reads the suite's
  ``case.events`` from the beginning. A ``case.created`` whose subject carries the run's
  token (:data:`~omnicase.kit.bench_suite_intake.SUBJECT_TOKEN`) ties the case to the
  message; the first ``case.updated`` that sets ``assignee_id`` is its assignment. The
  moment taken is the envelope's ``time``: stamped by case-core in the very transaction
  that made the change (its commit follows within that transaction), not when the event
  reached the bench, so relay and broker delays after the fact are not counted.
- **SLA milestones set**: sla-engine publishes no event when it starts a case's clocks,
  so a probe polls its ``sla_engine.milestones`` table every :data:`SLA_POLL_SECONDS`
  for the cases not yet seen with a due time (one indexed query for all of them). The
  moment taken is when the poll that first saw them returned: an upper bound, at most one
  poll interval (plus the query) late. Reading a service's table is the bench's licence
  as an outside observer; no service does.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from aiokafka import AIOKafkaConsumer

from omnicase.kit.bench_suite_intake import SUBJECT_TOKEN
from omnicase.kit.events import CaseCreated, CaseUpdated, Envelope
from omnicase.kit.topics import Topic

SLA_POLL_SECONDS = 0.05
_MILESTONES_SET = (
    "SELECT DISTINCT case_id FROM sla_engine.milestones WHERE case_id = ANY($1::uuid[]) AND due_at IS NOT NULL"
)


@dataclass
class Progress:
    """What became of one message: the moments (wall clock, seconds) each stage was reached."""

    case_id: uuid.UUID
    created_at: float
    assigned_at: float | None = None
    sla_at: float | None = None


@dataclass
class PipelineObserver:
    run: str
    bootstrap: str
    dsn: str
    group: str = field(default="")
    by_key: dict[str, Progress] = field(default_factory=dict)
    duplicates: dict[str, list[str]] = field(default_factory=dict)
    unparsable: int = 0
    _by_case: dict[uuid.UUID, str] = field(default_factory=dict)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _consumer: Any = None
    _connection: Any = None
    failure: BaseException | None = None
    # Set whenever a message reaches a stage (or the observer fails), for whoever waits on progress.
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        self.group = self.group or f"bench-suite-observer-{self.run}"
        self._consumer = AIOKafkaConsumer(
            Topic.CASE_EVENTS.value,
            bootstrap_servers=self.bootstrap,
            group_id=self.group,
            client_id="bench-suite-observer",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            isolation_level="read_committed",
            # The kit consumers' fetch wait: aiokafka's 500 ms default would add up to half a
            # second to every stage the observer times.
            fetch_max_wait_ms=50,
        )
        await self._consumer.start()
        self._connection = await asyncpg.connect(self.dsn)
        self._tasks = [asyncio.create_task(self._guard(work)) for work in (self._consume(), self._poll())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._consumer is not None:
            with contextlib.suppress(Exception):
                await self._consumer.stop()
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()

    async def _guard(self, work: Any) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.failure = error
            self.changed.set()

    async def _consume(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=200)
            for records in batches.values():
                for record in records:
                    self._observe(record.value)

    def _observe(self, raw: bytes) -> None:
        try:
            envelope = Envelope.from_bytes(raw)
        except ValueError:
            self.unparsable += 1
            return
        if envelope.type == CaseCreated.event_type:
            created = CaseCreated.parse(envelope)
            match = SUBJECT_TOKEN.search(created.case.subject)
            if match is None or match["run"] != self.run:
                return
            key, case_id = match["key"], created.case.case_id
            if key in self.by_key:
                if self.by_key[key].case_id != case_id:
                    self.duplicates.setdefault(key, [str(self.by_key[key].case_id)]).append(str(case_id))
                return
            at = envelope.time.timestamp()
            self.by_key[key] = Progress(case_id, at, at if created.case.assignee_id is not None else None)
            self._by_case[case_id] = key
            self.changed.set()
        elif envelope.type == CaseUpdated.event_type:
            updated = CaseUpdated.parse(envelope)
            key = self._by_case.get(updated.case_id)
            change = updated.changes.get("assignee_id")
            if key is None or change is None or change.new is None:
                return
            progress = self.by_key[key]
            if progress.assigned_at is None:
                progress.assigned_at = envelope.time.timestamp()
                self.changed.set()

    async def _poll(self) -> None:
        while True:
            waiting = [p.case_id for p in self.by_key.values() if p.sla_at is None]
            if waiting:
                rows = await self._connection.fetch(_MILESTONES_SET, waiting)
                seen = time.time()
                for row in rows:
                    # asyncpg has its own UUID type; normalise it for the dict lookup.
                    key = self._by_case.get(uuid.UUID(str(row["case_id"])))
                    if key is not None and self.by_key[key].sla_at is None:
                        self.by_key[key].sla_at = seen
                        self.changed.set()
            await asyncio.sleep(SLA_POLL_SECONDS)
