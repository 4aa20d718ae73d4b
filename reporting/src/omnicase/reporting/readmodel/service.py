"""The read model's writes: a batch of case and SLA events folded into one row per case.

What each event changes (the definitions the metrics rest on are in the README):

- a case snapshot (every case event carries one) sets the case's dimensions (channel, brand,
  group, assignee, priority, status) when its version is newer than the row's; a status that
  moves from open (new, open, pending, on hold) to done (solved, closed) is a *solve* at the
  snapshot's ``updated_at``, from done back to open a *reopen*;
- a public message by an agent is a public reply; the first one is the case's first reply;
- ``case.satisfaction_survey_sent`` is a survey sent, ``case.satisfaction_rated`` its rating
  (a changed rating replaces the earlier one);
- ``sla.clocks_started`` / ``sla.milestones_updated`` replace the case's SLA clocks and name its
  policy's business-hours schedule;
- knowledge's ``article.answered`` solved is a question an article answered (a deflection).

Events of one case come in order (one partition per case on each topic); the two topics are
read by one consumer, so an SLA event may come before its case's ``case.created``: what it
says of the schedule is kept by case (``case_policies``) and taken by the row made later.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.bus.batch import Batch
from omnicase.kit.events import (
    ArticleAnswered,
    CaseCreated,
    CaseMessageAdded,
    CaseSatisfactionRated,
    CaseSatisfactionSurveySent,
    CaseSnapshot,
    CaseStatus,
    CaseUpdated,
    SlaClock,
    SlaClocksStarted,
    SlaMilestonesUpdated,
    SwarmMemberJoined,
    SwarmMessagePosted,
    SwarmResolved,
    SwarmStarted,
)
from omnicase.reporting.readmodel.repository import (
    UNKNOWN,
    CaseRow,
    ClockRow,
    DeflectionRow,
    Dimensions,
    ReadModelRepository,
    SurveyRow,
    SwarmRow,
)

DONE = frozenset({CaseStatus.SOLVED.value, CaseStatus.CLOSED.value})


def _seconds(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else max(0.0, (end - start).total_seconds())


def clock_row(case_id: uuid.UUID, policy_id: uuid.UUID | None, clock: SlaClock) -> ClockRow:
    """A clock as the read model keeps it; decided when achieved, or breached while still running."""
    decided = clock.achieved_at if clock.state == "achieved" else (clock.due_at if clock.breached else None)
    return ClockRow(
        case_id=case_id,
        milestone=clock.milestone,
        cycle=clock.cycle,
        policy_id=policy_id,
        state=clock.state,
        breached=clock.breached,
        due_at=clock.due_at,
        achieved_at=clock.achieved_at,
        decided_at=decided,
    )


class _Fold:
    """The batch's cases and surveys as they become, event by event."""

    def __init__(
        self,
        cases: dict[uuid.UUID, CaseRow],
        surveys: dict[uuid.UUID, SurveyRow],
        schedules: dict[uuid.UUID, uuid.UUID | None],
        first_swarms: dict[uuid.UUID, datetime],
        swarms: dict[uuid.UUID, SwarmRow],
        members: dict[tuple[uuid.UUID, str], bool],
    ) -> None:
        self.cases = cases
        self.surveys = surveys
        self.schedules = schedules
        self.first_swarms = first_swarms
        self.swarms = swarms
        self.members = members
        self.changed_swarms: set[uuid.UUID] = set()
        self.changed_members: set[tuple[uuid.UUID, str]] = set()
        self.changed_cases: set[uuid.UUID] = set()
        self.changed_surveys: set[uuid.UUID] = set()
        self.status_changes: list[dict[str, Any]] = []
        # Spans the batch opened (case -> opened at, closed at or None) and open spans it closed.
        self.spans: list[list[Any]] = []
        self._open: dict[uuid.UUID, list[Any]] = {}
        self.closed: list[tuple[uuid.UUID, datetime]] = []
        self.clock_sets: dict[uuid.UUID, list[ClockRow]] = {}
        self.policies: dict[uuid.UUID, dict[str, Any]] = {}

    def _put(self, row: CaseRow) -> None:
        times = (row.first_reply_at, row.solved_at, row.schedule_id)
        before = self.cases.get(row.case_id)
        if before is None or times != (before.first_reply_at, before.solved_at, before.schedule_id):
            row = dataclasses.replace(
                row,
                first_reply_seconds=_seconds(row.created_at, row.first_reply_at),
                resolution_seconds=_seconds(row.created_at, row.solved_at),
                # The business-hours worker counts them again in the schedule's working time.
                first_reply_business_seconds=None,
                resolution_business_seconds=None,
                business_stale=row.schedule_id is not None,
            )
        self.cases[row.case_id] = row
        self.changed_cases.add(row.case_id)

    def snapshot(self, case: CaseSnapshot) -> CaseRow | None:
        """The case after ``case``; None for a snapshot older than what the row already holds."""
        row = self.cases.get(case.case_id)
        status = case.status.value
        if row is None:
            solved = case.updated_at if status in DONE else None
            row = CaseRow(
                case_id=case.case_id,
                number=case.number,
                version=case.version,
                status=status,
                channel=case.channel.value,
                brand=case.brand,
                group_id=case.group_id,
                assignee_id=case.assignee_id,
                priority=case.priority.value,
                created_at=case.created_at,
                solved_at=solved,
                schedule_id=self.schedules.get(case.case_id),
                swarmed_at=self.first_swarms.get(case.case_id),
            )
            self._span_opened(case.case_id, case.created_at)
            if solved is not None:
                self._status_change(case.case_id, case.version, "solved", solved)
                self._span_closed(case.case_id, solved)
            self._put(row)
            return row
        if case.version <= row.version:
            return row if case.version == row.version else None
        changes: dict[str, Any] = {
            "version": case.version,
            "status": status,
            "channel": case.channel.value,
            "brand": case.brand,
            "group_id": case.group_id,
            "assignee_id": case.assignee_id,
            "priority": case.priority.value,
        }
        if status in DONE and row.status not in DONE:
            changes["solved_at"] = case.updated_at
            self._status_change(case.case_id, case.version, "solved", case.updated_at)
            self._span_closed(case.case_id, case.updated_at)
        elif status not in DONE and row.status in DONE:
            changes |= {"solved_at": None, "reopen_count": row.reopen_count + 1, "last_reopened_at": case.updated_at}
            self._status_change(case.case_id, case.version, "reopened", case.updated_at)
            self._span_opened(case.case_id, case.updated_at)
        row = dataclasses.replace(row, **changes)
        self._put(row)
        return row

    def _status_change(self, case_id: uuid.UUID, version: int, kind: str, at: datetime) -> None:
        self.status_changes.append({"case_id": case_id, "version": version, "kind": kind, "at": at})

    def _span_opened(self, case_id: uuid.UUID, at: datetime) -> None:
        span = [case_id, at, None]
        self.spans.append(span)
        self._open[case_id] = span

    def _span_closed(self, case_id: uuid.UUID, at: datetime) -> None:
        span = self._open.pop(case_id, None)
        if span is None:
            self.closed.append((case_id, at))  # opened by an earlier batch
        else:
            span[2] = at

    def public_reply(self, case_id: uuid.UUID, at: datetime) -> None:
        row = self.cases.get(case_id)
        if row is None:
            return
        self._put(
            dataclasses.replace(row, public_replies=row.public_replies + 1, first_reply_at=row.first_reply_at or at)
        )

    def survey_sent(self, sent: CaseSatisfactionSurveySent) -> None:
        survey = self.surveys.get(sent.survey_id) or SurveyRow(sent.survey_id, sent.case_id)
        self.surveys[sent.survey_id] = dataclasses.replace(survey, sent_at=sent.sent_at)
        self.changed_surveys.add(sent.survey_id)

    def rated(self, rated: CaseSatisfactionRated) -> None:
        survey = self.surveys.get(rated.survey_id) or SurveyRow(rated.survey_id, rated.case_id)
        self.surveys[rated.survey_id] = dataclasses.replace(survey, rating=rated.rating, rated_at=rated.rated_at)
        self.changed_surveys.add(rated.survey_id)
        row = self.snapshot(rated.case) or self.cases.get(rated.case_id)
        if row is not None:
            self._put(
                dataclasses.replace(row, rating=rated.rating, rating_reason=rated.reason, rated_at=rated.rated_at)
            )

    def clocks(self, event: SlaClocksStarted | SlaMilestonesUpdated) -> None:
        self.clock_sets[event.case_id] = [clock_row(event.case_id, event.policy_id, clock) for clock in event.clocks]
        self.policies[event.case_id] = {
            "case_id": event.case_id,
            "policy_id": event.policy_id,
            "schedule_id": event.schedule_id,
        }
        self.schedules[event.case_id] = event.schedule_id
        row = self.cases.get(event.case_id)
        if row is not None and row.schedule_id != event.schedule_id:
            self._put(dataclasses.replace(row, schedule_id=event.schedule_id))

    def _swarm(self, swarm: SwarmRow) -> None:
        self.swarms[swarm.swarm_id] = swarm
        self.changed_swarms.add(swarm.swarm_id)

    def swarm_started(self, started: SwarmStarted) -> None:
        if started.swarm_id not in self.swarms:
            self._swarm(SwarmRow(started.swarm_id, started.case_id, "open", started.started_at))
        first = self.first_swarms.get(started.case_id)
        if first is None or started.started_at < first:
            self.first_swarms[started.case_id] = started.started_at
            row = self.cases.get(started.case_id)
            if row is not None:
                self._put(dataclasses.replace(row, swarmed_at=started.started_at))

    def member_joined(self, joined: SwarmMemberJoined) -> None:
        swarm = self.swarms.get(joined.swarm_id)
        key = (joined.swarm_id, joined.member)
        if swarm is None or key in self.members:  # a swarm started before the service ran
            return
        self.members[key] = False
        self.changed_members.add(key)
        self._swarm(dataclasses.replace(swarm, members=swarm.members + 1))

    def message_posted(self, posted: SwarmMessagePosted) -> None:
        swarm = self.swarms.get(posted.swarm_id)
        if swarm is None:
            return
        key = (posted.swarm_id, posted.author)
        first_post = self.members.get(key) is False  # a member's first message (not a Slack guest's)
        if first_post:
            self.members[key] = True
            self.changed_members.add(key)
        self._swarm(dataclasses.replace(swarm, messages=swarm.messages + 1, posters=swarm.posters + int(first_post)))

    def swarm_resolved(self, resolved: SwarmResolved) -> None:
        swarm = self.swarms.get(resolved.swarm_id) or SwarmRow(
            resolved.swarm_id, resolved.case_id, "open", resolved.started_at
        )
        self._swarm(dataclasses.replace(swarm, status=resolved.status, ended_at=resolved.ended_at))


def _case_id(data: object) -> uuid.UUID | None:
    match data:
        case CaseCreated(case=case):
            return case.case_id
        case (
            CaseUpdated(case_id=case_id)
            | CaseMessageAdded(case_id=case_id)
            | CaseSatisfactionRated(case_id=case_id)
            | CaseSatisfactionSurveySent(case_id=case_id)
            | SlaClocksStarted(case_id=case_id)
            | SlaMilestonesUpdated(case_id=case_id)
            | SwarmStarted(case_id=case_id)
            | SwarmMemberJoined(case_id=case_id)
            | SwarmMessagePosted(case_id=case_id)
            | SwarmResolved(case_id=case_id)
            | ArticleAnswered(case_id=case_id)
        ):
            return case_id
    return None


class ReadModelService:
    """Folds a batch of events into the read model with a fixed number of statements."""

    async def apply(self, session: AsyncSession, batch: Batch) -> None:
        repository = ReadModelRepository(session)
        case_ids = {case_id for received in batch if (case_id := _case_id(received.data)) is not None}
        survey_ids = {
            received.data.survey_id
            for received in batch
            if isinstance(received.data, CaseSatisfactionSurveySent | CaseSatisfactionRated)
        }
        swarm_ids = {
            received.data.swarm_id
            for received in batch
            if isinstance(received.data, SwarmStarted | SwarmMemberJoined | SwarmMessagePosted | SwarmResolved)
        }
        known = await repository.cases(case_ids)
        before = {case_id: Dimensions.of(row) for case_id, row in known.items()}
        elsewhere = await repository.elsewhere(case_ids)
        # A case not known yet can have facts recorded only through other topics (its SLA clocks,
        # its swarms, read before its creation); its own events come in order after it.
        timed_first = {case_id for case_id in elsewhere if case_id not in known}
        fold = _Fold(
            known,
            await repository.surveys(survey_ids) if survey_ids else {},
            {case_id: e.schedule_id for case_id, e in elsewhere.items() if e.has_policy},
            {case_id: e.first_swarm for case_id, e in elsewhere.items() if e.first_swarm is not None},
            await repository.swarms(swarm_ids) if swarm_ids else {},
            await repository.swarm_members(swarm_ids) if swarm_ids else {},
        )
        deflections: list[ArticleAnswered] = []
        for received in batch:
            at = received.envelope.time
            match received.data:
                case CaseCreated(case=case):
                    fold.snapshot(case)
                case CaseUpdated(case=case) if case is not None:
                    fold.snapshot(case)
                case CaseMessageAdded() as message:
                    if message.case is not None:
                        fold.snapshot(message.case)
                    if message.direction == "outbound" and message.public and message.author_role == "agent":
                        fold.public_reply(message.case_id, at)
                case CaseSatisfactionSurveySent() as sent:
                    fold.survey_sent(sent)
                case CaseSatisfactionRated() as rated:
                    fold.rated(rated)
                case SlaClocksStarted() | SlaMilestonesUpdated() as clocks:
                    fold.clocks(clocks)
                case SwarmStarted() as started:
                    fold.swarm_started(started)
                case SwarmMemberJoined() as joined:
                    fold.member_joined(joined)
                case SwarmMessagePosted() as posted:
                    fold.message_posted(posted)
                case SwarmResolved() as resolved:
                    fold.swarm_resolved(resolved)
                case ArticleAnswered(outcome="solved") as answered:
                    deflections.append(answered)
        # Each fact is written with its case's dimensions as the batch leaves them; the facts
        # recorded earlier of a case whose dimensions moved (or timed before it was known) take them too.
        dimensions = {case_id: Dimensions.of(row) for case_id, row in fold.cases.items()}
        moved = {
            case_id: dimensions[case_id]
            for case_id in sorted(fold.changed_cases)
            if (case_id in before and before[case_id] != dimensions[case_id]) or case_id in timed_first
        }
        await repository.set_dimensions(moved)
        await repository.save_cases([fold.cases[case_id] for case_id in sorted(fold.changed_cases)])
        await repository.add_status_changes(
            [change | dimensions.get(change["case_id"], UNKNOWN).columns() for change in fold.status_changes]
        )
        await repository.close_spans(fold.closed)
        await repository.open_spans(
            [(case_id, opened, closed, dimensions.get(case_id, UNKNOWN)) for case_id, opened, closed in fold.spans]
        )
        await repository.save_surveys(
            [
                (survey := fold.surveys[survey_id], dimensions.get(survey.case_id, UNKNOWN))
                for survey_id in sorted(fold.changed_surveys)
            ]
        )
        await repository.replace_clocks(
            fold.clock_sets.keys(),
            [(row, dimensions.get(row.case_id, UNKNOWN)) for rows in fold.clock_sets.values() for row in rows],
        )
        await repository.save_policies(list(fold.policies.values()))
        # A deflection carries its case's dimensions (none while the case is not known here: they
        # come with it).
        await repository.add_deflections(
            [
                (
                    DeflectionRow(d.suggestion_id, d.article_id, d.case_id, d.locale, d.answered_at),
                    dimensions.get(d.case_id, UNKNOWN),
                )
                for d in deflections
            ]
        )
        if fold.changed_swarms:
            await repository.save_swarms(
                [
                    (swarm := fold.swarms[swarm_id], dimensions.get(swarm.case_id, UNKNOWN))
                    for swarm_id in sorted(fold.changed_swarms)
                ]
            )
            await repository.save_swarm_members({key: fold.members[key] for key in sorted(fold.changed_members)})
