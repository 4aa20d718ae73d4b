"""Milestone clocks and their lifecycle, as pure functions of case events (no I/O).

A milestone's clock is a list of closed running periods plus, while it runs, the
instant it last started. Elapsed time is measured from those periods with the
target's :class:`TimeMeasure` (calendar or a business-hours schedule), so a policy
change that switches calendar ↔ business hours simply re-measures.

Semantics (as support teams know them from Zendesk and Service Cloud):

| milestone | starts | runs while the case is | achieved by |
|---|---|---|---|
| first_reply | case created | new, open, pending, on-hold | first public agent reply |
| next_reply | a customer message after the first reply | new, open, pending, on-hold | next public agent reply |
| periodic_update | each public agent reply | new, open | next public agent reply |
| resolution | case created | new, open | solved |
| requester_wait | case created | new, open, on-hold | solved |

Solving stops every clock (reply milestones are set aside, resolution and requester
wait are achieved); reopening resumes them where they stopped; closing ends them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from omnicase.kit.business_time import NoBusinessTime, TimeMeasure
from omnicase.kit.events import CaseStatus
from omnicase.sla_engine.policies.schemas import MilestoneKind

MilestoneStatus = Literal["running", "paused", "achieved", "breached", "cancelled"]

ACTIVE = {CaseStatus.NEW, CaseStatus.OPEN}
RUNS_IN: dict[MilestoneKind, frozenset[CaseStatus]] = {
    MilestoneKind.FIRST_REPLY: frozenset(ACTIVE | {CaseStatus.PENDING, CaseStatus.ON_HOLD}),
    MilestoneKind.NEXT_REPLY: frozenset(ACTIVE | {CaseStatus.PENDING, CaseStatus.ON_HOLD}),
    MilestoneKind.PERIODIC_UPDATE: frozenset(ACTIVE),
    MilestoneKind.RESOLUTION: frozenset(ACTIVE),
    MilestoneKind.REQUESTER_WAIT: frozenset(ACTIVE | {CaseStatus.ON_HOLD}),
}
ACHIEVED_BY_SOLVING = {MilestoneKind.RESOLUTION, MilestoneKind.REQUESTER_WAIT}
STOPPED = {CaseStatus.SOLVED, CaseStatus.CLOSED}


@dataclass
class Milestone:
    id: uuid.UUID
    case_id: uuid.UUID
    kind: MilestoneKind
    cycle: int
    started_at: datetime
    segments: list[tuple[datetime, datetime]] = field(default_factory=list)
    running_since: datetime | None = None
    policy_id: uuid.UUID | None = None
    target_seconds: float | None = None
    business_hours: bool = False
    schedule_id: uuid.UUID | None = None
    warning_percent: int | None = None
    warn_at: datetime | None = None
    due_at: datetime | None = None
    achieved_at: datetime | None = None
    achieved_seconds: float | None = None
    cancelled_at: datetime | None = None
    # Set by solving (not by a policy dropping the target), so reopening can undo it.
    stopped_by_solve: bool = False
    warned_at: datetime | None = None
    breached_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.achieved_at is None and self.cancelled_at is None

    @property
    def tracked(self) -> bool:
        """It has a target under the case's current policy."""
        return self.target_seconds is not None

    @property
    def paused(self) -> bool:
        return self.open and self.running_since is None

    # --- clock ------------------------------------------------------------------

    def pause(self, at: datetime) -> None:
        if self.running_since is not None:
            self.segments.append((self.running_since, max(at, self.running_since)))
            self.running_since = None

    def resume(self, at: datetime) -> None:
        if self.running_since is None and self.open:
            last_end = self.segments[-1][1] if self.segments else at
            self.running_since = max(at, last_end)

    def elapsed(self, measure: TimeMeasure, now: datetime) -> float:
        total = sum(measure.between(start, end) for start, end in self.segments)
        if self.running_since is not None:
            total += measure.between(self.running_since, now)
        return total

    def instant_reaching(self, measure: TimeMeasure, seconds: float) -> datetime | None:
        """When the clock's counted time reaches ``seconds`` (past or future); None while paused short of it,
        or when the schedule has no working time left within its search horizon."""
        try:
            return self._instant_reaching(measure, seconds)
        except NoBusinessTime:
            return None

    def _instant_reaching(self, measure: TimeMeasure, seconds: float) -> datetime | None:
        remaining = seconds
        for start, end in self.segments:
            length = measure.between(start, end)
            if remaining <= length:
                return measure.add(start, remaining)
            remaining -= length
        if self.running_since is None:
            return None
        return measure.add(self.running_since, remaining)

    # --- lifecycle ------------------------------------------------------------------

    def follow_status(self, new: CaseStatus, at: datetime) -> None:
        """Pause, resume, stop or reopen the clock as the case moves to status ``new``."""
        if new == CaseStatus.CLOSED:
            self.pause(at)
            if self.open:
                self._stop(at)
            self.stopped_by_solve = False  # closing is final
            return
        if new == CaseStatus.SOLVED:
            self.pause(at)
            if self.open:
                self._stop(at)
            return
        if self.stopped_by_solve:
            self.stopped_by_solve = False
            self.achieved_at = None
            self.achieved_seconds = None
            self.cancelled_at = None
        if not self.open:
            return
        if new in RUNS_IN[self.kind]:
            self.resume(at)
        else:
            self.pause(at)

    def _stop(self, at: datetime) -> None:
        self.stopped_by_solve = True
        if self.kind in ACHIEVED_BY_SOLVING:
            self.achieved_at = at
        else:
            self.cancelled_at = at

    def achieve(self, at: datetime) -> None:
        self.pause(at)
        if self.open:
            self.achieved_at = at

    def settle(self, measure: TimeMeasure) -> None:
        """After achievement: record the counted time, and whether it was over target."""
        if self.achieved_at is None:
            return
        self.achieved_seconds = self.elapsed(measure, self.achieved_at)
        if (
            self.target_seconds is not None
            and self.breached_at is None
            and self.achieved_seconds > self.target_seconds
            and self.due_at is not None
        ):
            self.breached_at = self.due_at

    def apply_target(
        self,
        policy_id: uuid.UUID | None,
        target_seconds: float | None,
        business_hours: bool,
        schedule_id: uuid.UUID | None,
        warning_percent: int | None,
    ) -> None:
        self.policy_id = policy_id
        self.target_seconds = target_seconds
        self.business_hours = business_hours
        self.schedule_id = schedule_id if business_hours else None
        self.warning_percent = warning_percent

    def compute_deadlines(self, measure: TimeMeasure) -> None:
        if self.target_seconds is None:
            self.warn_at = self.due_at = None
            return
        self.due_at = self.instant_reaching(measure, self.target_seconds)
        percent = self.warning_percent or 0
        self.warn_at = self.instant_reaching(measure, self.target_seconds * percent / 100) if percent else None

    def status(self, now: datetime) -> MilestoneStatus:
        if self.achieved_at is not None:
            return "achieved"
        if self.cancelled_at is not None:
            return "cancelled"
        if self.breached_at is not None or (self.due_at is not None and self.running_since and self.due_at <= now):
            return "breached"
        return "paused" if self.running_since is None else "running"


def start_clock(
    case_id: uuid.UUID, kind: MilestoneKind, cycle: int, at: datetime, status: CaseStatus, new_id: uuid.UUID
) -> Milestone:
    milestone = Milestone(id=new_id, case_id=case_id, kind=kind, cycle=cycle, started_at=at)
    if status in RUNS_IN[kind]:
        milestone.running_since = at
    return milestone
