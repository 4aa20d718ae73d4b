"""Milestone clocks: which statuses pause which clock, solve and reopen, targets and breaches."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from omnicase.kit.business_time import BusinessCalendar, CalendarTime, HolidayRange, WeeklyInterval
from omnicase.kit.events import CaseStatus
from omnicase.sla_engine.policies.schemas import MilestoneKind
from omnicase.sla_engine.tracking.milestones import Milestone, start_clock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
CALENDAR = CalendarTime()


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def clock(kind: MilestoneKind, target_minutes: float | None = 60, warning: int | None = 75) -> Milestone:
    milestone = start_clock(uuid.uuid4(), kind, 1, T0, CaseStatus.NEW, uuid.uuid4())
    if target_minutes is not None:
        milestone.apply_target(uuid.uuid4(), target_minutes * 60, False, None, warning)
        milestone.compute_deadlines(CALENDAR)
    return milestone


def test_a_running_clock_is_due_target_after_its_start_with_the_warning_before() -> None:
    milestone = clock(MilestoneKind.FIRST_REPLY)
    assert milestone.due_at == at(60)
    assert milestone.warn_at == at(45)
    assert milestone.status(at(30)) == "running"
    assert milestone.status(at(61)) == "breached"


def test_pending_pauses_resolution_and_pushes_its_due_time_by_the_paused_time() -> None:
    milestone = clock(MilestoneKind.RESOLUTION)
    milestone.follow_status(CaseStatus.PENDING, at(10))
    milestone.compute_deadlines(CALENDAR)
    assert milestone.paused
    assert milestone.due_at is None  # short of its target while paused: no due time
    assert milestone.elapsed(CALENDAR, at(500)) == 10 * 60
    milestone.follow_status(CaseStatus.OPEN, at(70))
    milestone.compute_deadlines(CALENDAR)
    assert milestone.due_at == at(120)


def test_pending_does_not_pause_first_reply() -> None:
    milestone = clock(MilestoneKind.FIRST_REPLY)
    milestone.follow_status(CaseStatus.PENDING, at(10))
    milestone.compute_deadlines(CALENDAR)
    assert not milestone.paused
    assert milestone.due_at == at(60)


def test_on_hold_pauses_resolution_but_not_requester_wait() -> None:
    resolution = clock(MilestoneKind.RESOLUTION)
    wait = clock(MilestoneKind.REQUESTER_WAIT)
    for milestone in (resolution, wait):
        milestone.follow_status(CaseStatus.ON_HOLD, at(5))
    assert resolution.paused
    assert not wait.paused


def test_solving_achieves_resolution_and_reopening_resumes_it_where_it_stopped() -> None:
    milestone = clock(MilestoneKind.RESOLUTION)
    milestone.follow_status(CaseStatus.SOLVED, at(20))
    assert milestone.achieved_at == at(20)
    milestone.follow_status(CaseStatus.OPEN, at(100))
    assert milestone.open
    assert milestone.achieved_at is None
    milestone.compute_deadlines(CALENDAR)
    assert milestone.due_at == at(140)  # 20 minutes used, 40 left from the reopen


def test_solving_sets_a_reply_clock_aside_and_reopening_restarts_it() -> None:
    milestone = clock(MilestoneKind.FIRST_REPLY)
    milestone.follow_status(CaseStatus.SOLVED, at(20))
    assert milestone.status(at(30)) == "cancelled"
    milestone.follow_status(CaseStatus.OPEN, at(30))
    assert milestone.status(at(31)) == "running"


def test_closing_is_final() -> None:
    milestone = clock(MilestoneKind.RESOLUTION)
    milestone.follow_status(CaseStatus.SOLVED, at(20))
    milestone.follow_status(CaseStatus.CLOSED, at(30))
    milestone.follow_status(CaseStatus.OPEN, at(40))
    assert milestone.achieved_at == at(20)
    assert not milestone.open


def test_achieving_late_records_the_breach_at_the_due_time() -> None:
    milestone = clock(MilestoneKind.FIRST_REPLY)
    milestone.achieve(at(90))
    milestone.settle(CALENDAR)
    assert milestone.achieved_seconds == 90 * 60
    assert milestone.breached_at == at(60)
    on_time = clock(MilestoneKind.FIRST_REPLY)
    on_time.achieve(at(30))
    on_time.settle(CALENDAR)
    assert on_time.breached_at is None
    assert on_time.status(at(200)) == "achieved"


def test_a_new_target_recomputes_the_due_time_from_the_time_already_used() -> None:
    milestone = clock(MilestoneKind.FIRST_REPLY, target_minutes=240)
    assert milestone.due_at == at(240)
    milestone.apply_target(milestone.policy_id, 30 * 60, False, None, 50)
    milestone.compute_deadlines(CALENDAR)
    assert milestone.due_at == at(30)
    assert milestone.warn_at == at(15)


def test_business_hours_target_counts_only_working_time() -> None:
    office = BusinessCalendar.build("UTC", [WeeklyInterval(day, time(9), time(17)) for day in range(5)])
    friday_16 = datetime(2026, 3, 6, 16, tzinfo=UTC)
    milestone = start_clock(uuid.uuid4(), MilestoneKind.FIRST_REPLY, 1, friday_16, CaseStatus.NEW, uuid.uuid4())
    milestone.apply_target(uuid.uuid4(), 2 * 3600, True, uuid.uuid4(), None)
    milestone.compute_deadlines(office)
    assert milestone.due_at == datetime(2026, 3, 9, 10, tzinfo=UTC)
    assert milestone.warn_at is None


def test_a_milestone_without_target_has_no_deadlines() -> None:
    milestone = clock(MilestoneKind.NEXT_REPLY, target_minutes=None)
    milestone.compute_deadlines(CALENDAR)
    assert milestone.due_at is None
    assert not milestone.tracked


def test_a_schedule_without_working_time_leaves_the_due_time_open_instead_of_failing() -> None:
    closed = BusinessCalendar.build(
        "UTC", [WeeklyInterval(0, time(9), time(17))], [HolidayRange(date(2026, 1, 1), date(2031, 1, 1))]
    )
    milestone = start_clock(uuid.uuid4(), MilestoneKind.RESOLUTION, 1, T0, CaseStatus.NEW, uuid.uuid4())
    milestone.apply_target(uuid.uuid4(), 3600, True, uuid.uuid4(), 50)
    milestone.compute_deadlines(closed)
    assert (milestone.due_at, milestone.warn_at) == (None, None)
