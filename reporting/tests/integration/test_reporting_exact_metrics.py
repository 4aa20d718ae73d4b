"""The exact-metrics test: a known history, scripted with the kit's clock and published on the real
broker as case-core and sla-engine publish it, gives exactly the numbers the README's definitions say.

Four cases of one brand, over Monday 2 to Wednesday 4 March 2026 (UTC), business hours Monday to
Friday 09:00-17:00 UTC (a schedule of the real sla-engine, read through its API):

- A (email): created Mon 09:00, answered Mon 10:00 and set pending (its SLA resolution clock
  paused), the customer answers Mon 16:00, answered and solved Tue 10:00 (two public replies),
  surveyed then, rated good Tue 12:00. First reply met, resolution breached.
- B (web): created Mon 12:00, answered and solved Mon 13:00, surveyed, rated bad Mon 14:00,
  reopened by the customer Tue 09:30, answered and solved again Wed 11:00, surveyed again (no answer).
- C (email): created Tue 15:00, never answered; its first-reply clock (no schedule) breached Tue 16:00.
- D (web, no SLA policy): created Wed 09:00, answered and solved Wed 09:30: one touch.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
import pytest
import pytest_asyncio

from omnicase.devtools.testing.apps import running
from omnicase.devtools.testing.clock import ManualClock
from omnicase.devtools.testing.plugin import SettingsFactory, eventually
from omnicase.kit.events import (
    ArticleAnswered,
    CaseCreated,
    CaseMessageAdded,
    CaseSatisfactionRated,
    CaseSatisfactionSurveySent,
    CaseSnapshot,
    CaseStatus,
    CaseUpdated,
    Channel,
    EventData,
    FieldChange,
    Priority,
    SlaClock,
    SlaClocksStarted,
    SlaMilestonesUpdated,
    SwarmMemberJoined,
    SwarmMessagePosted,
    SwarmResolved,
    SwarmStarted,
)
from omnicase.ops.topics import ensure_suite_topics
from omnicase.reporting.app import create_app
from omnicase.reporting.business_hours.schedules import ScheduleSource
from omnicase.reporting.settings import ReportingSettings
from omnicase.reporting.testing import REPORTS_SCOPES, Publisher
from omnicase.sla_engine.app import create_app as create_sla_engine
from omnicase.sla_engine.settings import SlaEngineSettings

pytestmark = pytest.mark.asyncio

MON = datetime(2026, 3, 2, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """Day 0 is Monday 2 March 2026."""
    return MON + timedelta(days=day, hours=hour, minutes=minute)


class Story:
    """One case's events as case-core tells them, each made at the kit clock's now."""

    def __init__(
        self, publish: Publisher, clock: ManualClock, brand: str, channel: Channel, priority: Priority
    ) -> None:
        self.publish, self.clock = publish, clock
        self.case_id = uuid.uuid4()
        self.snapshot = CaseSnapshot(
            case_id=self.case_id,
            number=1,
            subject="Printer on fire",
            status=CaseStatus.NEW,
            priority=priority,
            channel=channel,
            brand=brand,
            created_at=clock.now(),
            updated_at=clock.now(),
            version=1,
        )

    def _next(self, **changes: Any) -> CaseSnapshot:
        self.snapshot = self.snapshot.model_copy(
            update={**changes, "version": self.snapshot.version + 1, "updated_at": self.clock.now()}
        )
        return self.snapshot

    async def _send(self, event: EventData, source: str = "case-core") -> None:
        await self.publish(event, self.case_id, source=source)

    async def created(self) -> None:
        await self._send(CaseCreated(case=self.snapshot))

    async def status(self, status: CaseStatus) -> None:
        old = self.snapshot.status
        case = self._next(status=status)
        changes = {"status": FieldChange(old=old.value, new=status.value)}
        await self._send(
            CaseUpdated(case_id=self.case_id, version=case.version, changes=changes, actor="user:x", case=case)
        )

    async def moved(self, group_id: uuid.UUID) -> None:
        old = self.snapshot.group_id
        case = self._next(group_id=group_id)
        changes = {"group_id": FieldChange(old=old and str(old), new=str(group_id))}
        await self._send(
            CaseUpdated(case_id=self.case_id, version=case.version, changes=changes, actor="user:x", case=case)
        )

    async def message(self, role: str, *, public: bool = True) -> None:
        case = self._next(status=CaseStatus.OPEN if self.snapshot.status is CaseStatus.NEW else self.snapshot.status)
        await self._send(
            CaseMessageAdded(
                case_id=self.case_id,
                message_id=uuid.uuid4(),
                direction="outbound" if role == "agent" else "inbound",
                public=public,
                author="user:x" if role == "agent" else "contact:y",
                author_role="agent" if role == "agent" else "customer",
                channel=self.snapshot.channel,
                case=case,
            )
        )

    async def surveyed(self) -> uuid.UUID:
        survey_id = uuid.uuid4()
        await self._send(
            CaseSatisfactionSurveySent(
                case_id=self.case_id,
                survey_id=survey_id,
                channel=self.snapshot.channel,
                solved_at=self.snapshot.updated_at,
                sent_at=self.clock.now(),
            )
        )
        return survey_id

    async def rated(self, survey_id: uuid.UUID, rating: str) -> None:
        case = self._next()
        await self._send(
            CaseSatisfactionRated(
                case_id=self.case_id,
                version=case.version,
                survey_id=survey_id,
                rating=rating,
                reason="Too slow" if rating == "bad" else None,
                rated_at=self.clock.now(),
                case=case,
            )
        )

    async def clocks(self, schedule_id: uuid.UUID | None, *clocks: SlaClock, started: bool = False) -> None:
        kind = SlaClocksStarted if started else SlaMilestonesUpdated
        event = kind(case_id=self.case_id, policy_id=uuid.uuid4(), schedule_id=schedule_id, clocks=list(clocks))
        await self._send(event, source="sla-engine")


def running_clock(milestone: str, due: datetime) -> SlaClock:
    return SlaClock(milestone=milestone, state="running", due_at=due)


def met(milestone: str, when: datetime, due: datetime, *, breached: bool = False) -> SlaClock:
    return SlaClock(milestone=milestone, state="achieved", achieved_at=when, due_at=due, breached=breached)


@pytest_asyncio.fixture
async def sla_engine(
    service_settings: SettingsFactory, kafka_bootstrap: str, topic_prefix: str
) -> AsyncIterator[httpx.AsyncClient]:
    """The real sla-engine, answering its schedules' API; on topics of its own, so it does not time
    the scripted cases itself (their SLA events are the script's)."""
    own = f"{topic_prefix}sla."
    await ensure_suite_topics(kafka_bootstrap, prefix=own, partitions=1)
    async with running(
        create_sla_engine(service_settings(SlaEngineSettings, topic_prefix=own)),
        scopes=frozenset({"sla:read", "sla:write"}),
    ) as client:
        yield client


async def test_a_known_history_gives_every_metric_exactly(
    settings: ReportingSettings,
    sla_engine: httpx.AsyncClient,
    publish: Publisher,
    clock: ManualClock,
    brand: str,
) -> None:
    created = await sla_engine.post(
        "/api/v1/business-hours",
        json={
            "name": f"Office {brand}",
            "time_zone": "UTC",
            "intervals": [
                {"day": d, "start": "09:00", "end": "17:00"}
                for d in ("monday", "tuesday", "wednesday", "thursday", "friday")
            ],
        },
    )
    assert created.status_code == 201, created.text
    office = uuid.UUID(created.json()["id"])
    schedules = ScheduleSource("http://service", settings.internal_secret, client=sla_engine)

    app = create_app(settings, schedules=schedules)
    async with running(app, scopes=REPORTS_SCOPES) as client:
        # Monday
        a = Story(publish, clock, brand, Channel.EMAIL, Priority.NORMAL)
        await a.created()
        await a.clocks(
            office, running_clock("first_reply", at(0, 11)), running_clock("resolution", at(0, 17)), started=True
        )
        await clock.set(at(0, 10))
        await a.message("agent")
        await a.status(CaseStatus.PENDING)
        paused = SlaClock(milestone="resolution", state="paused")
        await a.clocks(office, met("first_reply", at(0, 10), at(0, 11)), paused)
        await clock.set(at(0, 12))
        b = Story(publish, clock, brand, Channel.WEB, Priority.HIGH)
        await b.created()
        await b.clocks(office, running_clock("first_reply", at(0, 14)), started=True)
        await clock.set(at(0, 13))
        await b.message("agent")
        await b.status(CaseStatus.SOLVED)
        await b.clocks(office, met("first_reply", at(0, 13), at(0, 14)))
        first_survey = await b.surveyed()
        await clock.set(at(0, 14))
        await b.rated(first_survey, "bad")
        await clock.set(at(0, 16))
        await a.message("customer")
        await a.status(CaseStatus.OPEN)
        # Tuesday
        await clock.set(at(1, 9, 30))
        await b.message("customer")
        await b.status(CaseStatus.OPEN)
        await clock.set(at(1, 10))
        await a.message("agent")
        await a.status(CaseStatus.SOLVED)
        await a.clocks(
            office, met("first_reply", at(0, 10), at(0, 11)), met("resolution", at(1, 10), at(0, 17), breached=True)
        )
        survey = await a.surveyed()
        await clock.set(at(1, 12))
        await a.rated(survey, "good")
        await clock.set(at(1, 15))
        c = Story(publish, clock, brand, Channel.EMAIL, Priority.NORMAL)
        await c.created()
        await c.clocks(None, running_clock("first_reply", at(1, 16)), started=True)
        await clock.set(at(1, 16))
        await c.clocks(None, SlaClock(milestone="first_reply", state="running", due_at=at(1, 16), breached=True))
        # Wednesday
        await clock.set(at(2, 9))
        d = Story(publish, clock, brand, Channel.WEB, Priority.NORMAL)
        await d.created()
        await clock.set(at(2, 9, 30))
        await d.message("agent")
        await d.status(CaseStatus.SOLVED)
        await clock.set(at(2, 11))
        await b.message("agent")
        await b.status(CaseStatus.SOLVED)
        await b.surveyed()
        await clock.set(at(3, 12))

        query = {
            "metrics": ",".join(EXPECTED),
            "group_by": "channel",
            "interval": "day",
            "since": "2026-03-02T00:00:00Z",
            "until": "2026-03-05T00:00:00Z",
            "tz": "UTC",
            "brand": brand,
        }

        async def report() -> dict[tuple[str, str | None, str | None], list[float | None]]:
            answer = await client.get("/api/v1/reports/metrics", params=query)
            assert answer.status_code == 200, answer.text
            return {(s["metric"], s["group"], s["milestone"]): s["values"] for s in answer.json()["series"]}

        async def consumed() -> bool:
            # Each case's last event is in (one partition per case keeps their order).
            got = await report()
            return (
                got.get(("solved", "web", None)) == [1, 0, 2]
                and got.get(("sla_attainment", "email", "first_reply")) == [100, 0, None]
                and got.get(("csat_response_rate", "email", None)) == [None, 100, None]
            )

        await eventually(consumed, within=30, message="the scripted history consumed")
        # The business-hours worker's turn (its loop sleeps on the test's clock, so it may also have
        # run when the clock moved: replicas and turns share the stale cases by SKIP LOCKED).
        await app.state.runtime.state.business_hours.count_once()

        async def counted() -> bool:
            return await report() == EXPECTED_SERIES

        await eventually(counted, within=10, message="the business-hours durations counted")

        whole = {key: value for key, value in query.items() if key != "group_by"}
        answer = await client.get("/api/v1/reports/metrics", params={**whole, "metrics": "created"})
        assert [s["values"] for s in answer.json()["series"]] == [[2, 1, 1]]
        assert answer.json()["intervals"] == ["2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z", "2026-03-04T00:00:00Z"]

        # Days of Tokyo (UTC+9): C, created Tue 15:00 UTC, is a Wednesday case there.
        tokyo = {
            **whole,
            "metrics": "created",
            "tz": "Asia/Tokyo",
            "since": "2026-03-01T15:00:00Z",
            "until": "2026-03-04T15:00:00Z",
        }
        [series] = (await client.get("/api/v1/reports/metrics", params=tokyo)).json()["series"]
        assert series["values"] == [2, 0, 2]
        weekly = {**tokyo, "interval": "week"}
        [series] = (await client.get("/api/v1/reports/metrics", params=weekly)).json()["series"]
        assert series["values"] == [4]

        # The same cases as CSV rows, with the fields the metrics read.
        export = await client.get("/api/v1/reports/export.csv", params={**PERIOD_OF(query), "brand": brand})
        assert export.status_code == 200, export.text
        assert export.headers["content-type"] == "text/csv; charset=utf-8"
        rows = list(csv.DictReader(io.StringIO(export.text)))
        assert [row["case_id"] for row in rows] == [str(story.case_id) for story in (a, b, c, d)]
        first = rows[0]
        assert {key: first[key] for key in CSV_OF_A} == CSV_OF_A
        assert (rows[1]["reopen_count"], rows[1]["one_touch"], rows[3]["one_touch"]) == ("1", "false", "true")
        assert (rows[2]["sla_breached"], rows[2]["first_reply_at"], rows[2]["schedule_id"]) == ("first_reply", "", "")
        assert first["schedule_id"] == str(office)

        # The broker delivers everything again (a lost commit): the inbox drops it, nothing counts twice.
        await publish.again()
        await clock.set(at(3, 13))
        late = Story(publish, clock, brand, Channel.SMS, Priority.LOW)
        await late.created()

        async def late_seen() -> bool:
            thursday = {**query, "metrics": "created", "until": "2026-03-06T00:00:00Z"}
            answer = await client.get("/api/v1/reports/metrics", params=thursday)
            got = {(s["metric"], s["group"]): s["values"] for s in answer.json()["series"]}
            return got.get(("created", "sms")) == [0, 0, 0, 1]

        await eventually(late_seen, within=30, message="the case created after the redelivery")
        again = await report()
        assert {key: value for key, value in again.items() if key[1] != "sms"} == EXPECTED_SERIES


def PERIOD_OF(query: dict[str, str]) -> dict[str, str]:
    return {"since": query["since"], "until": query["until"]}


CSV_OF_A = {
    "status": "solved",
    "channel": "email",
    "priority": "normal",
    "created_at": "2026-03-02T09:00:00Z",
    "first_reply_at": "2026-03-02T10:00:00Z",
    "solved_at": "2026-03-03T10:00:00Z",
    "reopen_count": "0",
    "public_replies": "2",
    "first_reply_seconds": "3600.0",
    "resolution_seconds": "90000.0",
    "first_reply_business_seconds": "3600.0",
    "resolution_business_seconds": "32400.0",
    "one_touch": "false",
    "sla_met": "first_reply",
    "sla_breached": "resolution",
    "rating": "good",
    "rating_reason": "",
    "rated_at": "2026-03-03T12:00:00Z",
}


async def test_a_case_moved_to_another_group_counts_there_in_every_metric(
    settings: ReportingSettings, publish: Publisher, clock: ManualClock, brand: str
) -> None:
    """Every fact of the case (its solve, reopen, open span, SLA clock and survey, and an SLA event
    read before the case itself) follows it to its new group: nothing stays counted in the old one."""
    first, second = uuid.uuid4(), uuid.uuid4()
    async with running(create_app(settings), scopes=REPORTS_SCOPES) as client:
        e = Story(publish, clock, brand, Channel.EMAIL, Priority.NORMAL)
        e.snapshot = e.snapshot.model_copy(update={"group_id": first})
        await e.clocks(None, running_clock("first_reply", at(0, 11)), started=True)
        await e.created()
        await clock.set(at(0, 10))
        await e.message("agent")
        await e.status(CaseStatus.SOLVED)
        await e.clocks(None, met("first_reply", at(0, 10), at(0, 11)))
        survey = await e.surveyed()
        await clock.set(at(0, 11))
        await e.rated(survey, "good")
        await clock.set(at(1, 9))
        await e.message("customer")
        await e.status(CaseStatus.OPEN)
        expected: dict[tuple[str, str | None], list[float | None]] = {
            ("created", N): [1, 0],
            ("solved", N): [1, 0],
            ("reopened", N): [0, 1],
            ("backlog", N): [0, 1],
            ("sla_attainment", "first_reply"): [100, N],
            ("one_touch_rate", N): [N, N],
            ("csat_good_rate", N): [100, N],
            ("csat_response_rate", N): [100, N],
        }
        query = {
            "metrics": ",".join(dict.fromkeys(metric for metric, _ in expected)),
            "group_by": "group",
            "interval": "day",
            "since": "2026-03-02T00:00:00Z",
            "until": "2026-03-04T00:00:00Z",
            "tz": "UTC",
            "brand": brand,
        }

        async def counted_in(group: uuid.UUID) -> bool:
            answer = await client.get("/api/v1/reports/metrics", params=query)
            assert answer.status_code == 200, answer.text
            got = {(s["metric"], s["group"], s["milestone"]): s["values"] for s in answer.json()["series"]}
            return got == {(metric, str(group), milestone): values for (metric, milestone), values in expected.items()}

        # Its history consumed in its first group (so the move comes in a later batch) …
        await eventually(lambda: counted_in(first), within=30, message="counted in the first group")
        await clock.set(at(1, 10))
        await e.moved(second)
        await clock.set(at(1, 12))
        # … and then all of it in the second.
        await eventually(lambda: counted_in(second), within=30, message="counted in the new group only")


N = None
EXPECTED: dict[str, dict[tuple[str, str | None], list[float | None]]] = {
    "created": {("email", N): [1, 1, 0], ("web", N): [1, 0, 1]},
    "solved": {("email", N): [0, 1, 0], ("web", N): [1, 0, 2]},
    "reopened": {("email", N): [0, 0, 0], ("web", N): [0, 1, 0]},
    "backlog": {("email", N): [1, 1, 1], ("web", N): [0, 1, 0]},
    "first_reply_time_median": {("email", N): [3600, N, N], ("web", N): [3600, N, 1800]},
    "first_reply_time_p90": {("email", N): [3600, N, N], ("web", N): [3600, N, 1800]},
    "first_reply_business_time_median": {("email", N): [3600, N, N], ("web", N): [3600, N, N]},
    "first_reply_business_time_p90": {("email", N): [3600, N, N], ("web", N): [3600, N, N]},
    # A: Mon 09:00 to Tue 10:00 (25 h; in office hours 8 h + 1 h). B: Mon 12:00 to its last solve
    # Wed 11:00 (47 h; 5 h + 8 h + 2 h), with D's half hour: median and p90 interpolated between them.
    "resolution_time_median": {("email", N): [N, 90000, N], ("web", N): [N, N, 85500]},
    "resolution_time_p90": {("email", N): [N, 90000, N], ("web", N): [N, N, 152460]},
    "resolution_business_time_median": {("email", N): [N, 32400, N], ("web", N): [N, N, 54000]},
    "resolution_business_time_p90": {("email", N): [N, 32400, N], ("web", N): [N, N, 54000]},
    "sla_attainment": {
        ("email", "first_reply"): [100, 0, N],
        ("email", "resolution"): [N, 0, N],
        ("web", "first_reply"): [100, N, N],
    },
    # Of the cases whose (last) solve falls in the interval: B was reopened, A had two replies.
    "one_touch_rate": {("email", N): [N, 0, N], ("web", N): [N, N, 50]},
    "csat_good_rate": {("email", N): [N, 100, N], ("web", N): [0, N, N]},
    "csat_response_rate": {("email", N): [N, 100, N], ("web", N): [100, N, 0]},
}
EXPECTED_SERIES = {
    (metric, group, milestone): values
    for metric, series in EXPECTED.items()
    for (group, milestone), values in series.items()
}


class Swarm:
    """One swarm's events as collaboration tells them."""

    def __init__(self, publish: Publisher, case: Story, started_at: datetime) -> None:
        self.publish, self.case_id, self.started_at = publish, case.case_id, started_at
        self.swarm_id = uuid.uuid4()

    async def _send(self, event: SwarmStarted | SwarmMemberJoined | SwarmMessagePosted | SwarmResolved) -> None:
        await self.publish(event, self.case_id, source="collaboration")

    async def started(self) -> None:
        await self._send(
            SwarmStarted(
                swarm_id=self.swarm_id, case_id=self.case_id, started_by="user:lead", question="Why?",
                urgency="normal", started_at=self.started_at,
            )
        )  # fmt: skip

    async def joined(self, member: str, when: datetime) -> None:
        await self._send(
            SwarmMemberJoined(
                swarm_id=self.swarm_id, case_id=self.case_id, member=member, added_by="user:lead", joined_at=when
            )
        )

    async def posted(self, author: str, when: datetime) -> None:
        await self._send(
            SwarmMessagePosted(
                swarm_id=self.swarm_id, case_id=self.case_id, message_id=uuid.uuid4(), author=author,
                source="slack" if author.startswith("slack:") else "omnicase", posted_at=when,
            )
        )  # fmt: skip

    async def resolved(self, when: datetime) -> None:
        await self._send(
            SwarmResolved(
                swarm_id=self.swarm_id, case_id=self.case_id, status="resolved", outcome="Fixed", ended_by="user:a",
                started_at=self.started_at, ended_at=when,
            )
        )  # fmt: skip


SWARM_EXPECTED: dict[str, list[Any]] = {
    "swarms_started": [1, 1],
    "swarm_members_avg": [3, 1],
    # Of the members who joined: a and b posted in swarm 1 (the Slack guest is no member), nobody in 2.
    "swarm_participation_rate": [pytest.approx(200 / 3), 0],
    "swarm_to_solve_time_median": [7200, N],
    "resolution_rate_swarmed": [100, 0],
    "resolution_rate_not_swarmed": [50, N],
    "same_day_resolution_rate_swarmed": [100, 0],
    "same_day_resolution_rate_not_swarmed": [0, N],
}


async def test_swarms_give_their_metrics_exactly(
    settings: ReportingSettings, publish: Publisher, clock: ManualClock, brand: str
) -> None:
    """Swarm metrics from collaboration's swarm.events, exactly: a known history of four cases and two
    swarms, published on the real broker as case-core and collaboration publish it, every event twice.

    Monday 2 March 2026 (UTC), all email:

    - S: created Mon 09:00; swarm 1 started 10:00, members a, b and c joined, a posted twice, b once,
      a Slack guest once (not a member); resolved 11:00; S solved Mon 12:00 (same day, 2 h after).
    - T: created Mon 09:30, never swarmed, solved Tue 10:00 (not the same day).
    - U: created Mon 13:00, never swarmed, still open.
    - V: created Tue 09:00; swarm 2 started 09:30, member a joined and never posted; still open.
    """
    async with running(create_app(settings), scopes=REPORTS_SCOPES) as client:
        await clock.set(at(0, 9))
        s = Story(publish, clock, brand, Channel.EMAIL, Priority.NORMAL)
        await s.created()
        await clock.set(at(0, 9, 30))
        t = Story(publish, clock, brand, Channel.EMAIL, Priority.NORMAL)
        await t.created()
        first = Swarm(publish, s, at(0, 10))
        await first.started()
        for minute, member in ((5, "user:a"), (6, "user:b"), (7, "user:c")):
            await first.joined(member, at(0, 10, minute))
        for minute, author in ((10, "user:a"), (20, "user:a"), (30, "user:b"), (40, "slack:U1")):
            await first.posted(author, at(0, 10, minute))
        await first.resolved(at(0, 11))
        await clock.set(at(0, 12))
        await s.status(CaseStatus.SOLVED)
        await clock.set(at(0, 13))
        u = Story(publish, clock, brand, Channel.EMAIL, Priority.NORMAL)
        await u.created()
        await clock.set(at(1, 9))
        v = Story(publish, clock, brand, Channel.EMAIL, Priority.NORMAL)
        await v.created()
        second = Swarm(publish, v, at(1, 9, 30))
        await second.started()
        await second.joined("user:a", at(1, 9, 31))
        await clock.set(at(1, 10))
        await t.status(CaseStatus.SOLVED)
        await clock.set(at(1, 12))
        # Every event once more, as a broker redelivers after a lost commit: it counts once.
        await publish.again()

        query = {
            "metrics": ",".join(SWARM_EXPECTED),
            "group_by": "channel",
            "interval": "day",
            "since": "2026-03-02T00:00:00Z",
            "until": "2026-03-04T00:00:00Z",
            "tz": "UTC",
            "brand": brand,
        }

        async def counted() -> bool:
            answer = await client.get("/api/v1/reports/metrics", params=query)
            assert answer.status_code == 200, answer.text
            got = {(s["metric"], s["group"]): s["values"] for s in answer.json()["series"]}
            return got == {(metric, "email"): values for metric, values in SWARM_EXPECTED.items()}

        await eventually(counted, within=30, message="the swarm metrics")


async def test_deflections_give_their_metrics_exactly(
    settings: ReportingSettings, publish: Publisher, clock: ManualClock, brand: str
) -> None:
    """Knowledge's deflections (``article.answered`` solved), exactly, every event twice: Monday 2 March 2026 (UTC).

    - E (email): created Mon 09:00; the customer says an article answered it Mon 10:00 (knowledge
      solves the case); moved to group X Mon 11:00 (its deflection counts there).
    - F (web): created Mon 11:00, an article it answered No to Mon 12:00 (no deflection).
    - G (web): created Tue 09:00, answered by an article Tue 09:30.
    """
    article_id = uuid.uuid4()
    group_x = uuid.uuid4()

    async def answered(case: Story, outcome: Literal["solved", "not_solved"] = "solved") -> None:
        event = ArticleAnswered(
            suggestion_id=uuid.uuid4(), article_id=article_id, case_id=case.case_id, locale="en",
            outcome=outcome, opened_at=clock.now(), answered_at=clock.now(),
        )  # fmt: skip
        await publish(event, article_id, source="knowledge")  # keyed by the article, as knowledge.events is

    async with running(create_app(settings), scopes=REPORTS_SCOPES) as client:
        await clock.set(at(0, 9))
        e = Story(publish, clock, brand, Channel.EMAIL, Priority.NORMAL)
        await e.created()
        await clock.set(at(0, 10))
        await answered(e)
        await e.status(CaseStatus.SOLVED)
        await clock.set(at(0, 11))
        await e.moved(group_x)
        f = Story(publish, clock, brand, Channel.WEB, Priority.NORMAL)
        await f.created()
        await clock.set(at(0, 12))
        await answered(f, "not_solved")
        await clock.set(at(1, 9))
        g = Story(publish, clock, brand, Channel.WEB, Priority.NORMAL)
        await g.created()
        await clock.set(at(1, 9, 30))
        await answered(g)
        await publish.again()

        def query(group_by: str) -> dict[str, str]:
            return {
                "metrics": "created,deflections,deflection_rate",
                "group_by": group_by,
                "interval": "day",
                "since": "2026-03-02T00:00:00Z",
                "until": "2026-03-04T00:00:00Z",
                "tz": "UTC",
                "brand": brand,
            }

        by_channel = {
            ("created", "email"): [1, 0],
            ("created", "web"): [1, 1],
            ("deflections", "email"): [1, 0],
            ("deflections", "web"): [0, 1],
            # Of the questions asked (the cases created): E of E; none of F; G of G.
            ("deflection_rate", "email"): [100, N],
            ("deflection_rate", "web"): [0, 100],
        }
        x = str(group_x)
        by_group = {
            ("created", x): [1, 0],
            ("created", None): [1, 1],
            ("deflections", x): [1, 0],
            ("deflections", None): [0, 1],
            ("deflection_rate", x): [100, N],
            ("deflection_rate", None): [0, 100],
        }

        async def counted() -> bool:
            for group_by, expected in (("channel", by_channel), ("group", by_group)):
                answer = await client.get("/api/v1/reports/metrics", params=query(group_by))
                assert answer.status_code == 200, answer.text
                if {(s["metric"], s["group"]): s["values"] for s in answer.json()["series"]} != expected:
                    return False
            return True

        await eventually(counted, within=30, message="the deflection metrics")
