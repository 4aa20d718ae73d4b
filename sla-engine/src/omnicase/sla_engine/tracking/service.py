"""Keeps each case's milestones in step with ``case.events`` and fires their thresholds.

One case's events arrive in order (key = case id); each is applied under a lock on
the case's projection row, so a scheduler firing a threshold at the same moment sees
either the state before or after, never half of it.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.events import (
    CaseCreated,
    CaseMessageAdded,
    CaseSnapshot,
    CaseStatus,
    CaseUpdated,
    Envelope,
    Priority,
    SlaMilestoneAchieved,
    SlaThresholdReached,
)
from omnicase.kit.ids import uuid7
from omnicase.sla_engine.actions import perform
from omnicase.sla_engine.automations.runner import AutomationRunner
from omnicase.sla_engine.business_hours.calendar import TimeMeasure
from omnicase.sla_engine.business_hours.measures import Measures
from omnicase.sla_engine.business_hours.repository import ScheduleRepository
from omnicase.sla_engine.events_out import EventSink
from omnicase.sla_engine.policies.repository import PolicyRepository
from omnicase.sla_engine.policies.schemas import MilestoneKind, Policy
from omnicase.sla_engine.policies.service import first_matching
from omnicase.sla_engine.scheduler.repository import TimerRepository
from omnicase.sla_engine.service import SPEC
from omnicase.sla_engine.tracking.milestones import STOPPED, Milestone, start_clock
from omnicase.sla_engine.tracking.repository import CaseState, TrackingRepository

logger = logging.getLogger(__name__)

SLA_TIMER = "sla"
REPLY_KINDS = (MilestoneKind.FIRST_REPLY, MilestoneKind.NEXT_REPLY, MilestoneKind.PERIODIC_UPDATE)
STARTS_WITH_CASE = (MilestoneKind.FIRST_REPLY, MilestoneKind.RESOLUTION, MilestoneKind.REQUESTER_WAIT)


def threshold_key(milestone_id: uuid.UUID, level: str) -> str:
    return f"ms:{milestone_id}:{level}"


class TrackingService:
    def __init__(self, session: AsyncSession, outbox: EventSink) -> None:
        self.session = session
        self.outbox = outbox
        self.cases = TrackingRepository(session)
        self.policies = PolicyRepository(session)
        self.schedules = ScheduleRepository(session)
        self.timers = TimerRepository(session)
        self.measures = Measures(self.schedules)
        self.automations = AutomationRunner(session, outbox, self.measures)
        # Configuration read once per unit of work (a resync page applies it to many cases).
        self._policies: list[Policy] | None = None

    async def active_policies(self) -> list[Policy]:
        if self._policies is None:
            self._policies = await self.policies.active_in_order()
        return self._policies

    async def measure(self, business_hours: bool, schedule_id: uuid.UUID | None) -> TimeMeasure:
        return await self.measures.get(business_hours, schedule_id)

    async def milestone_measure(self, milestone: Milestone) -> TimeMeasure:
        return await self.measure(milestone.business_hours, milestone.schedule_id)

    # --- case events ------------------------------------------------------------------

    async def handle(self, envelope: Envelope) -> None:
        if envelope.type == CaseCreated.event_type:
            created = CaseCreated.parse(envelope)
            await self.apply(created.case, created.case.created_at)
        elif envelope.type == CaseUpdated.event_type:
            updated = CaseUpdated.parse(envelope)
            if updated.case is not None:
                await self.apply(updated.case, updated.case.updated_at)
        elif envelope.type == CaseMessageAdded.event_type:
            message = CaseMessageAdded.parse(envelope)
            if message.case is not None:
                await self.apply(message.case, message.case.updated_at, message=message)
            else:
                await self.apply_message_only(message, envelope.time)

    async def apply_message_only(self, message: CaseMessageAdded, at: datetime) -> None:
        state = await self.cases.lock_case(message.case_id)
        if state is not None:
            await self.apply(state.snapshot, at, message=message, state=state)

    async def apply(
        self,
        snapshot: CaseSnapshot,
        at: datetime,
        *,
        message: CaseMessageAdded | None = None,
        state: CaseState | None = None,
    ) -> None:
        state = state or await self.cases.lock_case(snapshot.case_id)
        if state is None:
            state, milestones = self._first_sight(snapshot)
        else:
            milestones = await self.cases.milestones(snapshot.case_id)
            if snapshot.version > state.version:
                if snapshot.status != state.status:
                    for milestone in milestones:
                        milestone.follow_status(snapshot.status, at)
                    state.status, state.status_since = snapshot.status, at
                state.snapshot, state.version = snapshot, snapshot.version
        achieved: list[Milestone] = []
        if message is not None and message.public:
            achieved = self._on_message(state, milestones, message, at)
        policy = first_matching(await self.active_policies(), state.snapshot)
        state.policy_id = policy.id if policy else None
        for milestone in milestones:
            if milestone.open or milestone in achieved:
                self._apply_policy(milestone, policy, state.snapshot)
            if milestone.open:
                milestone.compute_deadlines(await self.milestone_measure(milestone))
        for milestone in milestones:
            if milestone.achieved_at is not None and (milestone in achieved or milestone.achieved_seconds is None):
                await self._settle(milestone)
        await self.cases.save_case(state)
        await self.cases.save_milestones(milestones)
        await self._sync_timers(milestones)
        await self.automations.sync(state)

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

    async def _settle(self, milestone: Milestone) -> None:
        milestone.settle(await self.milestone_measure(milestone))
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
        await self.outbox.add(self.session, event, source=SPEC.name, subject=key, key=key)

    async def _sync_timers(self, milestones: list[Milestone]) -> None:
        stale: list[str] = []
        for milestone in milestones:
            for level, deadline, fired in (
                ("warning", milestone.warn_at, milestone.warned_at),
                ("breach", milestone.due_at, milestone.breached_at),
            ):
                key = threshold_key(milestone.id, level)
                if milestone.open and deadline is not None and fired is None:
                    payload = {"milestone_id": str(milestone.id), "level": level}
                    await self.timers.schedule(key, SLA_TIMER, deadline, case_id=milestone.case_id, payload=payload)
                else:
                    stale.append(key)
        await self.timers.cancel(stale)

    async def resync(self, after: uuid.UUID | None, limit: int, now: datetime) -> uuid.UUID | None:
        """Re-apply the configuration to the next ``limit`` open cases; returns where to go on (None: done)."""
        states = await self.cases.lock_open_cases(after, limit)
        for state in states:
            await self.apply(state.snapshot, now, state=state)
        return states[-1].case_id if len(states) == limit else None

    # --- thresholds ---------------------------------------------------------------------

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
        await self.cases.mark_fired(milestone.id, level, deadline)
        assert milestone.policy_id is not None
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
