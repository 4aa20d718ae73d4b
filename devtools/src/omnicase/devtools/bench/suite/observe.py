"""Watches the suite turn the bench's messages into cases, from outside every service.

- **Case created / assigned**: a consumer in a group of its own reads the suite's
  ``case.events`` from the beginning. A ``case.created`` whose subject carries the run's
  token (:data:`~omnicase.devtools.bench.suite.intake.SUBJECT_TOKEN`) ties the case to the
  message; the first ``case.updated`` that sets ``assignee_id`` is its assignment. The
  moment taken is the envelope's ``time``: stamped by case-core in the very transaction
  that made the change (its commit follows within that transaction), not when the event
  reached the bench, so relay and broker delays after the fact are not counted.
- **SLA milestones set**: the same consumer reads ``sla.events``; a case's
  ``sla.clocks_started`` is the moment, again its envelope's ``time``, stamped in the
  sla-engine transaction that set the due times. The two topics are read independently,
  so a case's clocks may be seen before its ``case.created``: they wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer

from omnicase.devtools.bench.suite.intake import SUBJECT_TOKEN
from omnicase.kit.events import CaseCreated, CaseUpdated, Envelope, SlaClocksStarted
from omnicase.kit.topics import Topic


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
    group: str = field(default="")
    by_key: dict[str, Progress] = field(default_factory=dict)
    duplicates: dict[str, list[str]] = field(default_factory=dict)
    unparsable: int = 0
    _by_case: dict[uuid.UUID, str] = field(default_factory=dict)
    # Clocks seen before their case.created (another topic, read on its own).
    _clocks_at: dict[uuid.UUID, float] = field(default_factory=dict)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _consumer: Any = None
    failure: BaseException | None = None
    # Set whenever a message reaches a stage (or the observer fails), for whoever waits on progress.
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        self.group = self.group or f"bench-suite-observer-{self.run}"
        self._consumer = AIOKafkaConsumer(
            Topic.CASE_EVENTS.value,
            Topic.SLA_EVENTS.value,
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
        self._tasks = [asyncio.create_task(self._guard(self._consume()))]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._consumer is not None:
            with contextlib.suppress(Exception):
                await self._consumer.stop()

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
            self.by_key[key] = Progress(
                case_id,
                at,
                at if created.case.assignee_id is not None else None,
                self._clocks_at.pop(case_id, None),
            )
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
        elif envelope.type == SlaClocksStarted.event_type:
            case_id = SlaClocksStarted.parse(envelope).case_id
            at = envelope.time.timestamp()
            key = self._by_case.get(case_id)
            if key is None:
                self._clocks_at.setdefault(case_id, at)
            elif self.by_key[key].sla_at is None:
                self.by_key[key].sla_at = at
                self.changed.set()
