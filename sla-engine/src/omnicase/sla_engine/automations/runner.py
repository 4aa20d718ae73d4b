"""Time-based automations on one case: when each is due, its timer, and firing it once.

An automation's timer is recomputed with every case event that changes something it
reads (and every resync): it is
scheduled while the automation's conditions hold and it has not run on the case, and
cancelled as soon as they stop holding. Firing re-checks everything under the case
lock, and the ``automation_runs`` primary key makes "at most once per case" a fact
of the database rather than of timing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.business_time import NoBusinessTime, TimeMeasure
from omnicase.kit.events import CaseStatus
from omnicase.sla_engine.actions import perform
from omnicase.sla_engine.automations.repository import AutomationRepository
from omnicase.sla_engine.automations.schemas import Automation
from omnicase.sla_engine.business_hours.measures import Measures
from omnicase.sla_engine.events_out import EventSink
from omnicase.sla_engine.scheduler.repository import TimerPlan, TimerRepository
from omnicase.sla_engine.tracking.repository import CaseState, TrackingRepository

AUTOMATION_TIMER = "automation"
# The time measure of a target or condition: (business hours?, schedule id) -> measure.
MeasureOf = Callable[[bool, uuid.UUID | None], TimeMeasure]


def automation_key(case_id: uuid.UUID, automation_id: uuid.UUID) -> str:
    return f"auto:{case_id}:{automation_id}"


def reference_time(since: str, state: CaseState) -> datetime | None:
    """The instant an automation's hours count from; None when the condition cannot hold."""
    agent, customer = state.last_agent_reply_at, state.last_customer_message_at
    if since == "agent_reply":
        # The customer has not answered the last agent reply (reminders).
        return agent if agent is not None and (customer is None or customer < agent) else None
    if since == "customer_message":
        # No agent has answered the customer's last message.
        return customer if customer is not None and (agent is None or agent < customer) else None
    return {
        "created": state.snapshot.created_at,
        "updated": state.snapshot.updated_at,
        "pending": state.status_since,
        "solved": state.status_since,
    }[since]


def due_on(automation: Automation, state: CaseState, measure: TimeMeasure) -> datetime | None:
    """When ``automation`` would fire on this case as it is now; None if it does not apply."""
    condition = automation.time_condition
    if state.status == CaseStatus.CLOSED or not automation.conditions.matches(state.snapshot):
        return None
    if condition.since in ("pending", "solved") and state.status.value != condition.since:
        return None
    reference = reference_time(condition.since, state)
    if reference is None:
        return None
    try:
        return measure.add(reference, condition.hours * 3600)
    except NoBusinessTime:
        return None


def plan_timers(
    state: CaseState, automations: Sequence[Automation], ran: Collection[uuid.UUID], measures: MeasureOf
) -> tuple[list[TimerPlan], list[str]]:
    """Each automation's timer for this case as it is now: the ones to schedule, and the keys to cancel."""
    scheduled: list[TimerPlan] = []
    stale: list[str] = []
    for automation in automations:
        key = automation_key(state.case_id, automation.id)
        measure = measures(automation.time_condition.business_hours, automation.schedule_id)
        due = None if automation.id in ran else due_on(automation, state, measure)
        if due is None:
            stale.append(key)
        else:
            payload = {"automation_id": str(automation.id)}
            scheduled.append(TimerPlan(key, AUTOMATION_TIMER, due, state.case_id, payload))
    return scheduled, stale


class AutomationRunner:
    """Fires automation timers (the worker); scheduling them is :func:`plan_timers`, from the case events."""

    def __init__(self, session: AsyncSession, events: EventSink, measures: Measures) -> None:
        self.session = session
        self.events = events
        self.measures = measures
        self.repository = AutomationRepository(session)
        self.cases = TrackingRepository(session)
        self.timers = TimerRepository(session)

    async def due(self, automation: Automation, state: CaseState) -> datetime | None:
        """When ``automation`` would fire on this case as it is now; None if it does not apply."""
        measure = await self.measures.get(automation.time_condition.business_hours, automation.schedule_id)
        return due_on(automation, state, measure)

    async def fire(self, case_id: uuid.UUID, automation_id: uuid.UUID, now: datetime) -> None:
        """Run the automation's actions on the case if it is due and has not run there yet."""
        state = await self.cases.lock_case(case_id)
        automation = await self.repository.get(automation_id)
        if state is None or automation is None or not automation.active:
            return
        due = await self.due(automation, state)
        if due is None:
            return
        if due > now:
            payload = {"automation_id": str(automation_id)}
            key = automation_key(case_id, automation_id)
            await self.timers.schedule(key, AUTOMATION_TIMER, due, case_id=case_id, payload=payload)
            return
        if not await self.repository.record_run(case_id, automation_id, now):
            return
        await perform(
            self.session,
            self.events,
            case_id,
            automation.actions,
            priority=state.snapshot.priority,
            reason=f"automation:{automation.id}",
            summary=f"Automation “{automation.name}” ran on case #{state.snapshot.number}.",
            body={
                "event": "automation.fired",
                "automation_id": str(automation.id),
                "case_id": str(case_id),
                "case_number": state.snapshot.number,
                "fired_at": now.isoformat(),
            },
        )
