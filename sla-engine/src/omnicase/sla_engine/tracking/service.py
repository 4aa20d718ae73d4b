"""Keeps each case's milestones in step with ``case.events`` and fires their thresholds.

A consumed batch is applied set-based: its events are grouped by case (each case's
events keep their order), every case's projection row is locked and read in one
statement (case-id order, so consumer replicas cannot deadlock), its milestones in
another, the engine's pure logic runs in memory event after event, and the rows that
changed are written back with one multi-row statement per table; the events it
publishes go to the outbox in one statement. The statements per batch do not grow
with its number of events. A scheduler firing a threshold at the same moment holds
the case row or waits for it, so it sees either the state before or after, never half.

An update that changes nothing the engine reads (see :meth:`TrackingService.reads_change`)
is skipped: no row is rewritten and the projection keeps the last snapshot that did
change something. What it keeps from such a snapshot is only what the engine never
reads (subject, assignee, custom fields…), so every later decision is the same.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.bus.batch import Received
from omnicase.kit.business_time import TimeMeasure
from omnicase.kit.events import (
    CaseCreated,
    CaseMessageAdded,
    CaseSnapshot,
    CaseStatus,
    CaseUpdated,
    Envelope,
    EventData,
    Priority,
    SlaMilestoneAchieved,
    SlaThresholdReached,
)
from omnicase.kit.ids import uuid7
from omnicase.sla_engine.actions import perform
from omnicase.sla_engine.automations.repository import AutomationRepository
from omnicase.sla_engine.automations.runner import AutomationRunner, plan_timers
from omnicase.sla_engine.business_hours.measures import Measures
from omnicase.sla_engine.business_hours.repository import ScheduleRepository
from omnicase.sla_engine.config.cache import ENGINE_FIELDS, ConfigCache, Configuration
from omnicase.sla_engine.events_out import EventSink
from omnicase.sla_engine.policies.repository import PolicyRepository
from omnicase.sla_engine.policies.schemas import MilestoneKind, Policy
from omnicase.sla_engine.policies.service import first_matching
from omnicase.sla_engine.scheduler.repository import TimerPlan, TimerRepository
from omnicase.sla_engine.service import SPEC
from omnicase.sla_engine.tracking.clocks import clocks_event, clocks_of
from omnicase.sla_engine.tracking.milestones import STOPPED, Milestone, start_clock
from omnicase.sla_engine.tracking.repository import CaseState, TrackingRepository, case_row, milestone_row

logger = logging.getLogger(__name__)

SLA_TIMER = "sla"
REPLY_KINDS = (MilestoneKind.FIRST_REPLY, MilestoneKind.NEXT_REPLY, MilestoneKind.PERIODIC_UPDATE)
STARTS_WITH_CASE = (MilestoneKind.FIRST_REPLY, MilestoneKind.RESOLUTION, MilestoneKind.REQUESTER_WAIT)

Outgoing = list[tuple[str, Envelope, str]]


def _had_pending_timer(row: dict[str, Any] | None, level: str) -> bool:
    """Whether a milestone row as stored had its ``level`` timer scheduled (what a save schedules)."""
    if row is None:
        return False
    deadline, fired = (row["warn_at"], row["warned_at"]) if level == "warning" else (row["due_at"], row["breached_at"])
    return row["achieved_at"] is None and row["cancelled_at"] is None and deadline is not None and fired is None


def threshold_key(milestone_id: uuid.UUID, level: str) -> str:
    return f"ms:{milestone_id}:{level}"


@dataclass
class Tracked:
    """One case during a unit of work: its rows as read (kept when the first event is
    applied), and its state as the events leave it."""

    state: CaseState | None
    milestones: list[Milestone]
    ran: set[uuid.UUID] = field(default_factory=set)
    stored_case: dict[str, Any] | None = None
    stored_milestones: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    # An event was applied: rows that differ are written and timers re-planned.
    applied: bool = False


@dataclass(frozen=True)
class Step:
    """One case event as the engine applies it."""

    case_id: uuid.UUID
    snapshot: CaseSnapshot | None  # None: a message without one (the last snapshot seen applies)
    at: datetime
    message: CaseMessageAdded | None = None
    # Skipped when it changes nothing the engine reads (updates; messages that are not replies).
    skippable: bool = False


def step_of(data: EventData, envelope: Envelope) -> Step | None:
    match data:
        case CaseCreated(case=snapshot):
            return Step(snapshot.case_id, snapshot, snapshot.created_at)
        case CaseUpdated(case=CaseSnapshot() as snapshot):
            return Step(snapshot.case_id, snapshot, snapshot.updated_at, skippable=True)
        case CaseMessageAdded(case=CaseSnapshot() as snapshot) as message:
            return Step(message.case_id, snapshot, snapshot.updated_at, message, skippable=not message.public)
        case CaseMessageAdded() as message:
            return Step(message.case_id, None, envelope.time, message)
    return None  # an update without a snapshot: nothing to go on


class TrackingService:
    def __init__(self, session: AsyncSession, outbox: EventSink, config: ConfigCache | None = None) -> None:
        self.session = session
        self.outbox = outbox
        # Shared by the consumer for the process's life; otherwise read once for this unit of work.
        self.config = config or ConfigCache()
        self.cases = TrackingRepository(session)
        self.policies = PolicyRepository(session)
        self.schedules = ScheduleRepository(session)
        self.timers = TimerRepository(session)
        self.runs = AutomationRepository(session)
        self.measures = Measures(self.schedules)
        self.automations = AutomationRunner(session, outbox, self.measures)

    async def milestone_measure(self, milestone: Milestone) -> TimeMeasure:
        return await self.measures.get(milestone.business_hours, milestone.schedule_id)

    # --- case events ------------------------------------------------------------------

    async def handle(self, envelope: Envelope) -> None:
        """One event on its own (a batch of one)."""
        await self.handle_batch([Received(envelope, envelope.payload())])

    async def handle_batch(self, batch: Sequence[Received[EventData]]) -> None:
        steps = [(received, step) for received in batch if (step := step_of(received.data, received.envelope))]
        if not steps:
            return
        config = await self.config.current(self.session)
        tracked = await self._load({step.case_id for _, step in steps}, config)
        outgoing: Outgoing = []
        for received, step in steps:
            case = tracked[step.case_id]
            snapshot = step.snapshot or (case.state.snapshot if case.state else None)
            if snapshot is None:
                continue  # a message about a case never seen, without a snapshot
            if step.skippable and case.state is not None and not self.reads_change(case.state, snapshot, config):
                continue
            with received.traced():
                self._apply(case, snapshot, step.at, step.message, config, outgoing)
        await self._save(tracked, config, outgoing)

    @staticmethod
    def reads_change(state: CaseState, snapshot: CaseSnapshot, config: Configuration) -> bool:
        """Whether ``snapshot`` differs from the case as last applied in anything a policy, target,
        milestone or automation reads: its status, the fields conditions match, tags some condition
        names, and the update time when an automation counts from it. An older snapshot changes nothing."""
        if snapshot.version <= state.version:
            return False
        before = state.snapshot
        if any(getattr(before, name) != getattr(snapshot, name) for name in ENGINE_FIELDS):
            return True
        if snapshot.status != state.status:
            return True
        read = config.tags_read
        if set(before.tags) & read != set(snapshot.tags) & read:
            return True
        return config.reads_updated_at and before.updated_at != snapshot.updated_at

    async def _load(self, case_ids: set[uuid.UUID], config: Configuration) -> dict[uuid.UUID, Tracked]:
        states = await self.cases.lock_cases(case_ids)
        known = set(states)
        milestones = await self.cases.milestones_of(known) if known else {}
        runs = await self.runs.runs_of(known) if known and config.automations else {}
        return {case_id: self._tracked(states.get(case_id), milestones, runs) for case_id in case_ids}

    @staticmethod
    def _tracked(
        state: CaseState | None,
        milestones: dict[uuid.UUID, list[Milestone]],
        runs: dict[uuid.UUID, set[uuid.UUID]],
    ) -> Tracked:
        if state is None:
            return Tracked(None, [])
        items = milestones.get(state.case_id, [])
        return Tracked(state, items, ran=runs.get(state.case_id, set()))

    def _apply(
        self,
        case: Tracked,
        snapshot: CaseSnapshot,
        at: datetime,
        message: CaseMessageAdded | None,
        config: Configuration,
        outgoing: Outgoing,
    ) -> None:
        """One event on one case, in memory (no I/O): the engine's whole decision."""
        if not case.applied and case.state is not None:
            # The rows as read, kept before the first change (a case the batch
            # passes over is never written, so needs none).
            case.stored_case = case_row(case.state)
            case.stored_milestones = {milestone.id: milestone_row(milestone) for milestone in case.milestones}
        if case.state is None:
            case.state, case.milestones = self._first_sight(snapshot)
        else:
            state = case.state
            if snapshot.version > state.version:
                if snapshot.status != state.status:
                    for milestone in case.milestones:
                        milestone.follow_status(snapshot.status, at)
                    state.status, state.status_since = snapshot.status, at
                state.snapshot, state.version = snapshot, snapshot.version
        state, milestones = case.state, case.milestones
        case.applied = True
        achieved: list[Milestone] = []
        if message is not None and message.public:
            achieved = self._on_message(state, milestones, message, at)
        policy = first_matching(config.policies, state.snapshot)
        state.policy_id = policy.id if policy else None
        for milestone in milestones:
            if milestone.open or milestone in achieved:
                self._apply_policy(milestone, policy, state.snapshot)
            if milestone.open:
                milestone.compute_deadlines(config.measure(milestone.business_hours, milestone.schedule_id))
        for milestone in milestones:
            if milestone.achieved_at is not None and (milestone in achieved or milestone.achieved_seconds is None):
                self._settle(milestone, config, outgoing)

    async def _save(self, tracked: dict[uuid.UUID, Tracked], config: Configuration, outgoing: Outgoing) -> None:
        """Write what the batch changed: one multi-row statement per table, one for the outbox."""
        case_rows: list[dict[str, Any]] = []
        milestone_rows: list[dict[str, Any]] = []
        scheduled: list[TimerPlan] = []
        stale: list[str] = []
        for case in tracked.values():
            if not case.applied or case.state is None:
                continue
            row = case_row(case.state)
            if row != case.stored_case:
                case_rows.append(row)
            rows = [milestone_row(milestone) for milestone in case.milestones]
            milestone_rows += [row for row in rows if row != case.stored_milestones.get(row["id"])]
            told = clocks_event(
                case.state.case_id,
                case.state.policy_id,
                clocks_of(case.stored_milestones.values()),
                clocks_of(rows),
                config.schedule_of(case.state.policy_id),
            )
            if told is not None:
                key = str(case.state.case_id)
                outgoing.append((told.topic.value, told.envelope(source=SPEC.name, subject=key), key))
            self._plan_thresholds(case.milestones, case.stored_milestones, scheduled, stale)
            plans, cancelled = plan_timers(case.state, config.automations, case.ran, config.measure)
            scheduled += plans
            stale += cancelled
        await self.cases.save_cases_rows(case_rows)
        await self.cases.save_milestone_rows(milestone_rows)
        await self.timers.schedule_all(scheduled)
        await self.timers.cancel(stale)
        await self.outbox.add_envelopes(self.session, outgoing)

    def _first_sight(self, snapshot: CaseSnapshot) -> tuple[CaseState, list[Milestone]]:
        started = snapshot.created_at
        milestones = [
            start_clock(snapshot.case_id, kind, 1, started, CaseStatus.NEW, uuid7()) for kind in STARTS_WITH_CASE
        ]
        if snapshot.status not in (CaseStatus.NEW, CaseStatus.OPEN):
            # Seen first mid-life (events before this service existed): best effort from the snapshot.
            for milestone in milestones:
                milestone.follow_status(snapshot.status, snapshot.updated_at)
        status_since = started if snapshot.status == CaseStatus.NEW else snapshot.updated_at
        state = CaseState(snapshot.case_id, snapshot.version, snapshot, snapshot.status, status_since, None)
        return state, milestones

    def _on_message(
        self, state: CaseState, milestones: list[Milestone], message: CaseMessageAdded, at: datetime
    ) -> list[Milestone]:
        achieved: list[Milestone] = []
        agent_reply = message.direction == "outbound" and message.author_role == "agent"
        customer_message = message.direction == "inbound" and message.author_role == "customer"
        if agent_reply:
            state.last_agent_reply_at = at
        elif customer_message:
            state.last_customer_message_at = at
        if state.status in STOPPED:
            return achieved
        if agent_reply:
            for milestone in milestones:
                if milestone.kind in REPLY_KINDS and milestone.open:
                    milestone.achieve(at)
                    achieved.append(milestone)
            milestones.append(self._next_cycle(state, milestones, MilestoneKind.PERIODIC_UPDATE, at))
        elif customer_message:
            first_reply_done = any(
                m.kind == MilestoneKind.FIRST_REPLY and m.achieved_at is not None for m in milestones
            )
            waiting = any(m.kind == MilestoneKind.NEXT_REPLY and m.open for m in milestones)
            if first_reply_done and not waiting:
                milestones.append(self._next_cycle(state, milestones, MilestoneKind.NEXT_REPLY, at))
        return achieved

    @staticmethod
    def _next_cycle(state: CaseState, milestones: list[Milestone], kind: MilestoneKind, at: datetime) -> Milestone:
        cycle = 1 + max((m.cycle for m in milestones if m.kind == kind), default=0)
        return start_clock(state.case_id, kind, cycle, at, state.status, uuid7())

    @staticmethod
    def _apply_policy(milestone: Milestone, policy: Policy | None, snapshot: CaseSnapshot) -> None:
        if milestone.breached_at is not None and milestone.policy_id is not None:
            # A broken promise stays on record under the policy and target that made it, even
            # when its escalation moves the case to a priority or policy without that target.
            return
        targets = policy.targets.get(snapshot.priority) if policy else None
        target = targets.target(milestone.kind) if targets else None
        if policy is None or target is None:
            milestone.apply_target(None, None, False, None, None)
            return
        milestone.apply_target(
            policy.id, target.minutes * 60.0, target.business_hours, policy.schedule_id, policy.warning_percent
        )

    @staticmethod
    def _settle(milestone: Milestone, config: Configuration, outgoing: Outgoing) -> None:
        milestone.settle(config.measure(milestone.business_hours, milestone.schedule_id))
        if milestone.policy_id is None or milestone.achieved_at is None:
            return
        event = SlaMilestoneAchieved(
            case_id=milestone.case_id,
            policy_id=milestone.policy_id,
            milestone=milestone.kind.value,
            cycle=milestone.cycle,
            achieved_at=milestone.achieved_at,
            due_at=milestone.due_at,
            elapsed_seconds=max(0.0, milestone.achieved_seconds or 0.0),
            breached=milestone.breached_at is not None,
        )
        key = str(milestone.case_id)
        outgoing.append((event.topic.value, event.envelope(source=SPEC.name, subject=key), key))

    @staticmethod
    def _plan_thresholds(
        milestones: list[Milestone],
        stored: dict[uuid.UUID, dict[str, Any]],
        scheduled: list[TimerPlan],
        stale: list[str],
    ) -> None:
        """Each open threshold's timer, scheduled; one that the rows as read had pending and that
        is no longer wanted, cancelled. Only those: a batch of new cases would otherwise delete
        the timers their thresholds without a deadline never had, a statement of dozens of keys
        for nothing. (A timer left over anyway is harmless: firing re-checks the milestone.)"""
        for milestone in milestones:
            for level, deadline, fired in (
                ("warning", milestone.warn_at, milestone.warned_at),
                ("breach", milestone.due_at, milestone.breached_at),
            ):
                key = threshold_key(milestone.id, level)
                if milestone.open and deadline is not None and fired is None:
                    payload = {"milestone_id": str(milestone.id), "level": level}
                    scheduled.append(TimerPlan(key, SLA_TIMER, deadline, milestone.case_id, payload))
                elif _had_pending_timer(stored.get(milestone.id), level):
                    stale.append(key)

    async def resync(self, after: uuid.UUID | None, limit: int, now: datetime) -> uuid.UUID | None:
        """Re-apply the configuration to the next ``limit`` open cases; returns where to go on (None: done)."""
        states = await self.cases.lock_open_cases(after, limit)
        if not states:
            return None
        config = await self.config.current(self.session)
        ids = {state.case_id for state in states}
        milestones = await self.cases.milestones_of(ids)
        runs = await self.runs.runs_of(ids) if config.automations else {}
        tracked = {state.case_id: self._tracked(state, milestones, runs) for state in states}
        outgoing: Outgoing = []
        for state in states:
            self._apply(tracked[state.case_id], state.snapshot, now, None, config, outgoing)
        await self._save(tracked, config, outgoing)
        return states[-1].case_id if len(states) == limit else None

    # --- thresholds ---------------------------------------------------------------------

    async def _tell_breach(self, milestone: Milestone, before: dict[str, Any], at: datetime) -> None:
        """A breach is a change of the case's clocks: ``sla.milestones_updated`` with the milestone breached."""
        others = [
            milestone_row(other) for other in await self.cases.milestones(milestone.case_id) if other.id != milestone.id
        ]
        after = {**before, "breached_at": at}
        told = clocks_event(
            milestone.case_id,
            milestone.policy_id,
            clocks_of([*others, before]),
            clocks_of([*others, after]),
            (await self.config.current(self.session)).schedule_of(milestone.policy_id),
        )
        if told is not None:
            key = str(milestone.case_id)
            await self.outbox.add(self.session, told, source=SPEC.name, subject=key, key=key)

    async def fire_threshold(self, milestone_id: uuid.UUID, level: str, now: datetime) -> None:
        """Emit the warning or breach of a milestone once, then run the policy's escalations."""
        milestone = await self.cases.lock_milestone(milestone_id)
        if milestone is None or not milestone.open or milestone.target_seconds is None:
            return
        if (milestone.warned_at if level == "warning" else milestone.breached_at) is not None:
            return
        measure = await self.milestone_measure(milestone)
        share = (milestone.warning_percent or 0) / 100 if level == "warning" else 1.0
        deadline = milestone.instant_reaching(measure, milestone.target_seconds * share)
        if deadline is None:
            return
        if deadline > now:
            payload = {"milestone_id": str(milestone.id), "level": level}
            key = threshold_key(milestone.id, level)
            await self.timers.schedule(key, SLA_TIMER, deadline, case_id=milestone.case_id, payload=payload)
            return
        before = milestone_row(milestone) if level == "breach" else None
        await self.cases.mark_fired(milestone.id, level, deadline)
        assert milestone.policy_id is not None
        if before is not None:
            await self._tell_breach(milestone, before, deadline)
        event = SlaThresholdReached(
            case_id=milestone.case_id,
            policy_id=milestone.policy_id,
            milestone=milestone.kind.value,
            level="warning" if level == "warning" else "breach",
            due_at=milestone.due_at or deadline,
        )
        key = str(milestone.case_id)
        await self.outbox.add(self.session, event, source=SPEC.name, subject=key, key=key)
        policy = await self.policies.get(milestone.policy_id)
        if policy is None:
            return
        state = await self.cases.get_case(milestone.case_id)
        number = state.snapshot.number if state else 0
        priority = state.snapshot.priority if state else Priority.NORMAL
        what = "is about to breach" if level == "warning" else "breached"
        for escalation in policy.escalations:
            if escalation.applies(level, milestone.kind):
                await perform(
                    self.session,
                    self.outbox,
                    milestone.case_id,
                    escalation.actions,
                    priority=priority,
                    reason=f"sla:{policy.id}:{milestone.kind.value}:{level}",
                    summary=f"SLA {milestone.kind.value.replace('_', ' ')} on case #{number} {what} "
                    f"(policy “{policy.name}”, due {(milestone.due_at or deadline).isoformat()}).",
                    body={
                        "event": SlaThresholdReached.event_type,
                        "level": level,
                        "case_id": str(milestone.case_id),
                        "case_number": number,
                        "policy_id": str(policy.id),
                        "milestone": milestone.kind.value,
                        "due_at": (milestone.due_at or deadline).isoformat(),
                    },
                )
