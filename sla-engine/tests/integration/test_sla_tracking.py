"""Milestone lifecycles from case events, thresholds and escalations, automations (real PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.devtools.testing.clock import ManualClock
from omnicase.kit.db import Database
from omnicase.kit.events import (
    CaseCreated,
    CaseMessageAdded,
    CaseSnapshot,
    CaseStatus,
    CaseUpdated,
    ChangeCase,
    Channel,
    Envelope,
    EventData,
    FieldChange,
    OutboundMessageRequested,
    Priority,
    SetCaseStatus,
    SlaClocksStarted,
    SlaMilestoneAchieved,
    SlaMilestonesUpdated,
    SlaThresholdReached,
)
from omnicase.kit.outbox import Outbox
from omnicase.sla_engine.automations.schemas import Automation, AutomationCreate
from omnicase.sla_engine.automations.service import AutomationService
from omnicase.sla_engine.business_hours.schemas import ScheduleCreate
from omnicase.sla_engine.business_hours.service import ScheduleService
from omnicase.sla_engine.models import outbox as outbox_table
from omnicase.sla_engine.models import timers
from omnicase.sla_engine.policies.schemas import Policy, PolicyCreate
from omnicase.sla_engine.policies.service import PolicyService
from omnicase.sla_engine.resync import RESYNC_KEY
from omnicase.sla_engine.scheduler.repository import TimerRepository
from omnicase.sla_engine.tracking.reporting import ReportService
from omnicase.sla_engine.tracking.schemas import CaseSla, MilestoneState
from omnicase.sla_engine.tracking.service import TrackingService

# The kit clock stands at Monday 2 March 2026, 09:00 UTC unless a test moves it.
pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("clock")]

OUTBOX = Outbox(outbox_table)


class CaseStory:
    """One case told as the events case-core would publish."""

    def __init__(self, brand: str, created_at: datetime, priority: Priority = Priority.NORMAL) -> None:
        self.snapshot = CaseSnapshot(
            case_id=uuid.uuid4(),
            number=42,
            subject="Printer on fire",
            status=CaseStatus.NEW,
            priority=priority,
            channel=Channel.EMAIL,
            brand=brand,
            created_at=created_at,
            updated_at=created_at,
            version=1,
        )

    @property
    def case_id(self) -> uuid.UUID:
        return self.snapshot.case_id

    def created(self) -> Envelope:
        return self._envelope(CaseCreated(case=self.snapshot, description="help"))

    def change(self, at: datetime, **fields: Any) -> Envelope:
        changes = {name: FieldChange(old=getattr(self.snapshot, name), new=value) for name, value in fields.items()}
        self.snapshot = self.snapshot.model_copy(
            update={**fields, "updated_at": at, "version": self.snapshot.version + 1}
        )
        return self._envelope(
            CaseUpdated(
                case_id=self.case_id, version=self.snapshot.version, changes=changes, actor="test", case=self.snapshot
            )
        )

    def message(self, at: datetime, role: str, *, public: bool = True, **fields: Any) -> Envelope:
        self.snapshot = self.snapshot.model_copy(
            update={**fields, "updated_at": at, "version": self.snapshot.version + 1}
        )
        return self._envelope(
            CaseMessageAdded(
                case_id=self.case_id,
                message_id=uuid.uuid4(),
                direction="outbound" if role == "agent" else "inbound",
                public=public,
                author="user:1" if role == "agent" else "contact:1",
                author_role="agent" if role == "agent" else "customer",
                channel=Channel.EMAIL,
                case=self.snapshot,
            )
        )

    def _envelope(self, data: EventData) -> Envelope:
        return data.envelope(source="case-core", subject=str(self.case_id))


async def handle(db: Database, envelope: Envelope) -> None:
    async with db.unit_of_work() as session:
        await TrackingService(session, OUTBOX).handle(envelope)


async def sla(db: Database, case_id: uuid.UUID) -> CaseSla:
    async with db.unit_of_work() as session:
        return await ReportService(session).case_sla(case_id)


def milestone(state: CaseSla, kind: str, cycle: int = 1) -> MilestoneState:
    return next(m for m in state.milestones if m.kind == kind and m.cycle == cycle)


async def published(db: Database, case_id: uuid.UUID, event_type: str) -> list[dict[str, Any]]:
    async with db.unit_of_work() as session:
        rows = await session.execute(
            select(outbox_table.c.payload)
            .where(outbox_table.c.key == str(case_id), outbox_table.c.event_type == event_type)
            .order_by(outbox_table.c.id)
        )
        return [Envelope.from_bytes(row.payload).data for row in rows]


async def create_policy(session: AsyncSession, brand: str, **fields: Any) -> Policy:
    values: dict[str, Any] = {
        "name": f"policy for {brand}",
        "conditions": {"brand": [brand]},
        "targets": {
            "normal": {
                "first_reply": {"minutes": 60},
                "next_reply": {"minutes": 30},
                "resolution": {"minutes": 480},
            },
            "urgent": {"first_reply": {"minutes": 15}, "resolution": {"minutes": 120}},
        },
        "warning_percent": 75,
    }
    values.update(fields)
    return await PolicyService(session).create(PolicyCreate.model_validate(values))


async def create_automation(
    session: AsyncSession, brand: str, name: str, when: dict[str, Any], actions: list[dict[str, Any]], **fields: Any
) -> Automation:
    """An automation for ``brand``'s cases whose time condition is ``when``."""
    values: dict[str, Any] = {
        "name": name,
        "conditions": {"brand": [brand]},
        "time_condition": when,
        "actions": actions,
    }
    values.update(fields)
    return await AutomationService(session).create(AutomationCreate.model_validate(values))


async def fire_due(db: Database, case_id: uuid.UUID, now: datetime) -> None:
    """What the timer worker does for this case's due SLA timers, in due order."""
    async with db.unit_of_work() as session:
        due = [(key, at) for key, at in await TimerRepository(session).pending_for_case(case_id) if at <= now]
        service = TrackingService(session, OUTBOX)
        for key, _ in due:
            _, milestone_id, level = key.split(":")
            await service.fire_threshold(uuid.UUID(milestone_id), level, now)


async def test_first_reply_is_achieved_by_the_first_public_agent_reply(db: Database, brand: str) -> None:
    t0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
    async with db.unit_of_work() as session:
        policy = await create_policy(session, brand)
    story = CaseStory(brand, t0)
    await handle(db, story.created())
    state = await sla(db, story.case_id)
    assert state.policy_id == policy.id
    first = milestone(state, "first_reply")
    assert (first.due_at, first.warn_at, first.status) == (
        t0 + timedelta(hours=1),
        t0 + timedelta(minutes=45),
        "running",
    )
    assert milestone(state, "resolution").due_at == t0 + timedelta(hours=8)

    await handle(db, story.message(t0 + timedelta(minutes=5), "agent", public=False))
    assert milestone(await sla(db, story.case_id), "first_reply").status == "running"  # internal note: not a reply

    await handle(db, story.message(t0 + timedelta(minutes=20), "agent", status=CaseStatus.OPEN))
    first = milestone(await sla(db, story.case_id), "first_reply")
    assert first.status == "achieved"
    assert first.achieved_at == t0 + timedelta(minutes=20)
    assert first.elapsed_seconds == 20 * 60
    achieved = await published(db, story.case_id, SlaMilestoneAchieved.event_type)
    assert [(event["milestone"], event["breached"], event["elapsed_seconds"]) for event in achieved] == [
        ("first_reply", False, 1200.0)
    ]
    async with db.unit_of_work() as session:
        timers = [key for key, _ in await TimerRepository(session).pending_for_case(story.case_id)]
    assert len(timers) == 2  # first reply's are gone: resolution's warning and breach only


async def test_next_reply_starts_at_a_customer_reply_and_ends_at_the_next_agent_reply(db: Database, brand: str) -> None:
    t0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
    async with db.unit_of_work() as session:
        await create_policy(session, brand)
    story = CaseStory(brand, t0)
    await handle(db, story.created())
    await handle(db, story.message(t0 + timedelta(minutes=10), "customer"))
    state = await sla(db, story.case_id)
    assert not any(m.kind == "next_reply" for m in state.milestones)  # before the first reply: first reply covers it

    await handle(db, story.message(t0 + timedelta(minutes=20), "agent", status=CaseStatus.OPEN))
    await handle(db, story.message(t0 + timedelta(minutes=100), "customer"))
    next_reply = milestone(await sla(db, story.case_id), "next_reply")
    assert (next_reply.status, next_reply.due_at) == ("running", t0 + timedelta(minutes=130))

    await handle(db, story.message(t0 + timedelta(minutes=110), "customer"))  # still waiting: same clock
    assert [m.cycle for m in (await sla(db, story.case_id)).milestones if m.kind == "next_reply"] == [1]

    await handle(db, story.message(t0 + timedelta(minutes=125), "agent"))
    await handle(db, story.message(t0 + timedelta(minutes=200), "customer"))
    state = await sla(db, story.case_id)
    assert milestone(state, "next_reply", 1).status == "achieved"
    assert milestone(state, "next_reply", 2).due_at == t0 + timedelta(minutes=230)


async def test_pending_pauses_resolution_and_solved_achieves_it(db: Database, brand: str) -> None:
    t0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
    async with db.unit_of_work() as session:
        await create_policy(session, brand)
    story = CaseStory(brand, t0)
    await handle(db, story.created())
    await handle(db, story.change(t0 + timedelta(hours=1), status=CaseStatus.PENDING))
    resolution = milestone(await sla(db, story.case_id), "resolution")
    assert (resolution.status, resolution.paused, resolution.due_at) == ("paused", True, None)
    async with db.unit_of_work() as session:
        timers = await TimerRepository(session).pending_for_case(story.case_id)
    assert [due for _, due in timers] == [t0 + timedelta(minutes=45), t0 + timedelta(hours=1)]  # first reply's only

    await handle(db, story.change(t0 + timedelta(hours=5), status=CaseStatus.OPEN))
    assert milestone(await sla(db, story.case_id), "resolution").due_at == t0 + timedelta(hours=12)

    await handle(db, story.change(t0 + timedelta(hours=6), status=CaseStatus.SOLVED))
    resolution = milestone(await sla(db, story.case_id), "resolution")
    assert resolution.status == "achieved"
    assert resolution.elapsed_seconds == 2 * 3600
    assert milestone(await sla(db, story.case_id), "first_reply").status == "cancelled"

    await handle(db, story.change(t0 + timedelta(hours=7), status=CaseStatus.OPEN))  # reopened
    state = await sla(db, story.case_id)
    assert milestone(state, "resolution").status == "running"
    assert milestone(state, "resolution").due_at == t0 + timedelta(hours=13)


async def test_raising_the_priority_recomputes_the_targets(db: Database, brand: str) -> None:
    t0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
    async with db.unit_of_work() as session:
        await create_policy(session, brand)
    story = CaseStory(brand, t0)
    await handle(db, story.created())
    await handle(db, story.change(t0 + timedelta(minutes=5), priority=Priority.URGENT))
    state = await sla(db, story.case_id)
    assert milestone(state, "first_reply").due_at == t0 + timedelta(minutes=15)
    assert milestone(state, "resolution").due_at == t0 + timedelta(hours=2)


async def test_a_case_no_policy_matches_has_no_targets(db: Database, brand: str) -> None:
    story = CaseStory(brand, datetime(2026, 3, 2, 9, tzinfo=UTC))
    await handle(db, story.created())
    state = await sla(db, story.case_id)
    assert (state.policy_id, state.milestones) == (None, [])


async def test_business_hours_policy_counts_only_office_time(db: Database, brand: str) -> None:
    friday_16 = datetime(2026, 3, 6, 16, tzinfo=UTC)  # 17:00 in Berlin
    async with db.unit_of_work() as session:
        schedule = await ScheduleService(session).create(
            ScheduleCreate.model_validate(
                {
                    "name": "Berlin",
                    "time_zone": "Europe/Berlin",
                    "intervals": [{"day": day, "start": "09:00", "end": "18:00"} for day in ("monday", "friday")],
                    "holidays": [{"name": "Closed", "start_date": "2026-03-09"}],
                }
            )
        )
        await create_policy(
            session,
            brand,
            schedule_id=str(schedule.id),
            targets={"normal": {"first_reply": {"minutes": 120, "business_hours": True}}},
        )
    story = CaseStory(brand, friday_16)
    await handle(db, story.created())
    # One hour on Friday, Monday 9th is a holiday, Tuesday is not a working day: Friday 13th 10:00 Berlin.
    assert milestone(await sla(db, story.case_id), "first_reply").due_at == datetime(2026, 3, 13, 9, tzinfo=UTC)


async def test_warning_and_breach_fire_once_each_and_run_the_escalations(
    db: Database, brand: str, clock: ManualClock
) -> None:
    t0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
    group = uuid.uuid4()
    async with db.unit_of_work() as session:
        await create_policy(
            session,
            brand,
            escalations=[
                {
                    "on": "warning",
                    "milestones": ["first_reply"],
                    "actions": [{"type": "add_tags", "tags": ["sla-warn"]}, {"type": "raise_priority"}],
                },
                {
                    "on": "breach",
                    "actions": [
                        {"type": "set_priority", "priority": "urgent"},
                        {"type": "move_to_group", "group_id": str(group)},
                        {"type": "internal_note", "text": "Breached: take it now."},
                        {"type": "notify_email", "to": ["lead@example.com"]},
                    ],
                },
            ],
        )
    story = CaseStory(brand, t0)
    await handle(db, story.created())
    await fire_due(db, story.case_id, t0 + timedelta(minutes=44))
    assert await published(db, story.case_id, SlaThresholdReached.event_type) == []

    await fire_due(db, story.case_id, t0 + timedelta(minutes=46))
    await fire_due(db, story.case_id, t0 + timedelta(minutes=61))
    await fire_due(db, story.case_id, t0 + timedelta(minutes=62))  # nothing left to fire twice
    thresholds = await published(db, story.case_id, SlaThresholdReached.event_type)
    assert [(event["milestone"], event["level"]) for event in thresholds] == [
        ("first_reply", "warning"),
        ("first_reply", "breach"),
    ]
    commands = await published(db, story.case_id, ChangeCase.event_type)
    assert [(command["add_tags"], command["priority"]) for command in commands] == [
        (["sla-warn"], "high"),  # raised one level from normal
        ([], "urgent"),
    ]
    breach = commands[1]
    assert (breach["priority"], breach["group_id"], breach["internal_note"]) == (
        "urgent",
        str(group),
        "Breached: take it now.",
    )
    mails = await published(db, story.case_id, OutboundMessageRequested.event_type)
    assert [mail["to"][0]["email"] for mail in mails] == ["lead@example.com"]
    assert "first reply" in mails[0]["text"]
    await clock.set(t0 + timedelta(minutes=70))
    first = milestone(await sla(db, story.case_id), "first_reply")
    assert (first.status, first.breached, first.overdue_seconds, first.remaining_seconds) == (
        "breached",
        True,
        600.0,
        0.0,
    )


async def test_a_reply_before_the_due_time_cancels_the_breach(db: Database, brand: str) -> None:
    t0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
    async with db.unit_of_work() as session:
        await create_policy(session, brand)
    story = CaseStory(brand, t0)
    await handle(db, story.created())
    await handle(db, story.message(t0 + timedelta(minutes=50), "agent", status=CaseStatus.OPEN))
    await fire_due(db, story.case_id, t0 + timedelta(minutes=70))
    thresholds = await published(db, story.case_id, SlaThresholdReached.event_type)
    assert [(event["milestone"], event["level"]) for event in thresholds] == []


async def test_pending_for_four_business_days_solves_the_case_once(
    db: Database, brand: str, clock: ManualClock
) -> None:
    t0 = datetime(2026, 3, 2, 9, tzinfo=UTC)  # Monday
    async with db.unit_of_work() as session:
        schedule = await ScheduleService(session).create(
            ScheduleCreate.model_validate(
                {
                    "name": "UTC office",
                    "time_zone": "UTC",
                    "intervals": [
                        {"day": day, "start": "09:00", "end": "17:00"}
                        for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
                    ],
                }
            )
        )
        automation = await create_automation(
            session,
            brand,
            "Solve abandoned pending cases",
            {"since": "pending", "hours": 32, "business_hours": True},
            [{"type": "set_status", "status": "solved"}],
            conditions={"brand": [brand], "status": ["pending"]},
            schedule_id=str(schedule.id),
        )
    story = CaseStory(brand, t0)
    await handle(db, story.created())
    await handle(db, story.change(t0 + timedelta(hours=2), status=CaseStatus.PENDING))
    async with db.unit_of_work() as session:
        timers = await TimerRepository(session).pending_for_case(story.case_id)
    due = dict(timers)[f"auto:{story.case_id}:{automation.id}"]
    assert due == datetime(2026, 3, 6, 11, tzinfo=UTC)  # Monday 11:00 + 4 days of 8 working hours

    for _ in range(2):
        async with db.unit_of_work() as session:
            await TrackingService(session, OUTBOX).automations.fire(story.case_id, automation.id, due)
    commands = await published(db, story.case_id, SetCaseStatus.event_type)
    assert [(command["status"], command["reason"]) for command in commands] == [
        ("solved", f"automation:{automation.id}")
    ]


async def test_an_automation_whose_condition_no_longer_holds_does_not_fire(db: Database, brand: str) -> None:
    t0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
    async with db.unit_of_work() as session:
        automation = await create_automation(
            session,
            brand,
            "Close solved",
            {"since": "solved", "hours": 96},
            [{"type": "set_status", "status": "closed"}],
        )
    story = CaseStory(brand, t0)
    await handle(db, story.created())
    await handle(db, story.change(t0 + timedelta(hours=1), status=CaseStatus.SOLVED))
    async with db.unit_of_work() as session:
        assert dict(await TrackingService(session, OUTBOX).timers.pending_for_case(story.case_id))[
            f"auto:{story.case_id}:{automation.id}"
        ] == t0 + timedelta(hours=97)
    await handle(db, story.change(t0 + timedelta(hours=2), status=CaseStatus.OPEN))  # reopened: not solved any more
    async with db.unit_of_work() as session:
        service = TrackingService(session, OUTBOX)
        assert f"auto:{story.case_id}:{automation.id}" not in dict(await service.timers.pending_for_case(story.case_id))
        await service.automations.fire(story.case_id, automation.id, t0 + timedelta(hours=100))
    assert await published(db, story.case_id, SetCaseStatus.event_type) == []


async def test_attainment_reports_on_time_share_breaches_and_times(db: Database, brand: str) -> None:
    t0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
    async with db.unit_of_work() as session:
        policy = await create_policy(session, brand)
    for reply_after in (10, 20, 90):
        story = CaseStory(brand, t0)
        await handle(db, story.created())
        await handle(db, story.message(t0 + timedelta(minutes=reply_after), "agent", status=CaseStatus.OPEN))
    async with db.unit_of_work() as session:
        report = await ReportService(session).attainment(t0, t0 + timedelta(days=1), policy.id)
    first = next(item for item in report.items if item.milestone == "first_reply")
    assert (first.total, first.achieved_on_time, first.breaches) == (3, 2, 1)
    assert first.achieved_percent == pytest.approx(66.67)
    assert first.median_seconds == 20 * 60
    assert first.p90_seconds == pytest.approx(1200 + 0.8 * (5400 - 1200))

    next_day = t0 + timedelta(days=1)
    story = CaseStory(brand, next_day)
    await handle(db, story.created())
    await handle(db, story.message(next_day + timedelta(minutes=5), "agent", status=CaseStatus.OPEN))
    async with db.unit_of_work() as session:
        daily = await ReportService(session).attainment(t0, t0 + timedelta(days=2), policy.id, "day")
    by_day = [(item.period_start, item.total, item.breaches) for item in daily.items if item.milestone == "first_reply"]
    assert by_day == [(datetime(2026, 3, 2, tzinfo=UTC), 3, 1), (datetime(2026, 3, 3, tzinfo=UTC), 1, 0)]


async def test_a_new_policy_reaches_cases_already_open(db: Database, brand: str) -> None:
    t0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
    story = CaseStory(brand, t0)
    await handle(db, story.created())
    assert (await sla(db, story.case_id)).milestones == []
    async with db.unit_of_work() as session:
        await create_policy(session, brand)
        resync = await session.execute(select(timers.c.due_at).where(timers.c.key == RESYNC_KEY))
        assert resync.scalar_one() == t0  # the walk over open cases starts now
    after: uuid.UUID | None = None
    while True:
        async with db.unit_of_work() as session:
            after = await TrackingService(session, OUTBOX).resync(after, 50, t0 + timedelta(minutes=10))
        if after is None:
            break
    first = milestone(await sla(db, story.case_id), "first_reply")
    assert first.due_at == t0 + timedelta(hours=1)  # counted from the case's creation, not from the change


async def test_no_customer_reply_for_a_day_sends_a_reminder_unless_the_customer_answers(
    db: Database, brand: str
) -> None:
    t0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
    async with db.unit_of_work() as session:
        automation = await create_automation(
            session,
            brand,
            "Remind quiet customers",
            {"since": "agent_reply", "hours": 24},
            [
                {"type": "notify_email", "to": ["care@example.com"], "subject": "Waiting for the customer"},
                {"type": "add_tags", "tags": ["reminded"]},
            ],
        )
    key = f"auto:{automation.id}"
    quiet, answered = CaseStory(brand, t0), CaseStory(brand, t0)

    async def due(story: CaseStory) -> datetime | None:
        async with db.unit_of_work() as session:
            timers = dict(await TimerRepository(session).pending_for_case(story.case_id))
        return timers.get(f"auto:{story.case_id}:{automation.id}")

    for story in (quiet, answered):
        await handle(db, story.created())
        assert await due(story) is None, key  # no agent reply yet: nothing to remind about
        await handle(db, story.message(t0 + timedelta(hours=1), "agent", status=CaseStatus.PENDING))
        assert await due(story) == t0 + timedelta(hours=25)
    await handle(db, answered.message(t0 + timedelta(hours=3), "customer", status=CaseStatus.OPEN))
    assert await due(answered) is None

    async with db.unit_of_work() as session:
        service = TrackingService(session, OUTBOX)
        for story in (quiet, answered):
            await service.automations.fire(story.case_id, automation.id, t0 + timedelta(hours=25))
    assert [mail["subject"] for mail in await published(db, quiet.case_id, OutboundMessageRequested.event_type)] == [
        "Waiting for the customer"
    ]
    assert [command["add_tags"] for command in await published(db, quiet.case_id, ChangeCase.event_type)] == [
        ["reminded"]
    ]
    assert await published(db, answered.case_id, OutboundMessageRequested.event_type) == []


async def test_raising_priority_stops_at_urgent(db: Database, brand: str) -> None:
    t0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
    async with db.unit_of_work() as session:
        await create_policy(
            session,
            brand,
            escalations=[{"on": "warning", "actions": [{"type": "raise_priority"}]}],
        )
    story = CaseStory(brand, t0, priority=Priority.URGENT)
    await handle(db, story.created())
    await fire_due(db, story.case_id, t0 + timedelta(minutes=12))  # urgent first reply: 15 min, warning at 75 %
    assert [event["level"] for event in await published(db, story.case_id, SlaThresholdReached.event_type)] == [
        "warning"
    ]
    assert await published(db, story.case_id, ChangeCase.event_type) == []


# --- what integrators are told of the clocks (sla.clocks_started, sla.milestones_updated) ---

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)  # the kit clock's start


def due(event: dict[str, Any]) -> dict[str, tuple[str, bool, str | None]]:
    return {clock["milestone"]: (clock["state"], clock["breached"], clock["due_at"]) for clock in event["clocks"]}


async def test_a_case_a_policy_applies_to_announces_its_clocks_with_their_due_times(db: Database, brand: str) -> None:
    async with db.unit_of_work() as session:
        policy = await create_policy(session, brand)
    story = CaseStory(brand, T0)
    await handle(db, story.created())
    [started] = await published(db, story.case_id, SlaClocksStarted.event_type)
    assert started["policy_id"] == str(policy.id)
    assert due(started) == {
        "first_reply": ("running", False, (T0 + timedelta(hours=1)).isoformat().replace("+00:00", "Z")),
        "resolution": ("running", False, (T0 + timedelta(hours=8)).isoformat().replace("+00:00", "Z")),
    }
    assert [clock["warn_at"] is not None for clock in started["clocks"]] == [True, True]
    assert await published(db, story.case_id, SlaMilestonesUpdated.event_type) == []


async def test_the_clocks_name_the_business_hours_schedule_of_the_case_policy(db: Database, brand: str) -> None:
    async with db.unit_of_work() as session:
        schedule = await ScheduleService(session).create(
            ScheduleCreate.model_validate(
                {
                    "name": "Office",
                    "time_zone": "UTC",
                    "intervals": [{"day": "monday", "start": "09:00", "end": "17:00"}],
                }
            )
        )
        await create_policy(
            session, brand, schedule_id=str(schedule.id), targets={"normal": {"first_reply": {"minutes": 60}}}
        )
    story = CaseStory(brand, T0)
    await handle(db, story.created())
    [started] = await published(db, story.case_id, SlaClocksStarted.event_type)
    assert started["schedule_id"] == str(schedule.id)


async def test_a_case_no_policy_applies_to_announces_nothing(db: Database, brand: str) -> None:
    story = CaseStory(f"{brand}-unmatched", T0)
    await handle(db, story.created())
    assert await published(db, story.case_id, SlaClocksStarted.event_type) == []


async def test_each_change_integrators_see_is_told_once_and_no_change_tells_nothing(db: Database, brand: str) -> None:
    async with db.unit_of_work() as session:
        await create_policy(session, brand)
    story = CaseStory(brand, T0)
    await handle(db, story.created())
    # An internal note and a change of something no clock depends on: nothing to tell.
    await handle(db, story.message(T0 + timedelta(minutes=5), "agent", public=False))
    await handle(db, story.change(T0 + timedelta(minutes=6), subject="Printer still on fire"))
    assert await published(db, story.case_id, SlaMilestonesUpdated.event_type) == []

    # The priority goes up: re-timed. The agent answers: first reply met.
    await handle(db, story.change(T0 + timedelta(minutes=10), priority=Priority.URGENT))
    await handle(db, story.message(T0 + timedelta(minutes=12), "agent", status=CaseStatus.OPEN))
    # Pending pauses resolution.
    await handle(db, story.change(T0 + timedelta(minutes=20), status=CaseStatus.PENDING))
    retimed, answered, paused = await published(db, story.case_id, SlaMilestonesUpdated.event_type)
    assert due(retimed)["first_reply"][2] == (T0 + timedelta(minutes=15)).isoformat().replace("+00:00", "Z")
    assert due(answered)["first_reply"][:2] == ("achieved", False)
    assert due(paused)["resolution"][0] == "paused"


async def test_a_breach_is_told_as_a_change_of_the_clocks(db: Database, brand: str, clock: ManualClock) -> None:
    async with db.unit_of_work() as session:
        await create_policy(session, brand)
    story = CaseStory(brand, T0)
    await handle(db, story.created())
    later = T0 + timedelta(hours=1, minutes=1)
    await clock.set(later)
    await fire_due(db, story.case_id, later)
    [breached] = await published(db, story.case_id, SlaMilestonesUpdated.event_type)
    assert due(breached)["first_reply"][:2] == ("running", True)
    assert due(breached)["resolution"][:2] == ("running", False)
