"""Every query of the read model's writes: rows of a batch's cases read at once, written set-based."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, text

from omnicase.kit.db import UnnestedRows, any_of
from omnicase.kit.repository import Repository
from omnicase.reporting.models import (
    DIMENSIONS,
    case_policies,
    cases,
    deflections,
    sla_clocks,
    status_changes,
    surveys,
    swarm_members,
    swarms,
)


@dataclass(frozen=True)
class CaseRow:
    """One case of the read model (``reporting.cases``), every column."""

    case_id: uuid.UUID
    number: int
    version: int
    status: str
    channel: str
    brand: str | None
    group_id: uuid.UUID | None
    assignee_id: uuid.UUID | None
    priority: str
    created_at: datetime
    first_reply_at: datetime | None = None
    solved_at: datetime | None = None
    reopen_count: int = 0
    last_reopened_at: datetime | None = None
    public_replies: int = 0
    first_reply_seconds: float | None = None
    resolution_seconds: float | None = None
    schedule_id: uuid.UUID | None = None
    first_reply_business_seconds: float | None = None
    resolution_business_seconds: float | None = None
    business_stale: bool = False
    rating: str | None = None
    rating_reason: str | None = None
    rated_at: datetime | None = None
    swarmed_at: datetime | None = None


CASE_COLUMNS = tuple(field.name for field in dataclasses.fields(CaseRow))


@dataclass(frozen=True)
class SurveyRow:
    survey_id: uuid.UUID
    case_id: uuid.UUID
    sent_at: datetime | None = None
    rating: str | None = None
    rated_at: datetime | None = None


SURVEY_COLUMNS = tuple(field.name for field in dataclasses.fields(SurveyRow))


@dataclass(frozen=True)
class ClockRow:
    case_id: uuid.UUID
    milestone: str
    cycle: int
    policy_id: uuid.UUID | None
    state: str
    breached: bool
    due_at: datetime | None
    achieved_at: datetime | None
    decided_at: datetime | None


CLOCK_COLUMNS = tuple(field.name for field in dataclasses.fields(ClockRow))


@dataclass(frozen=True)
class SwarmRow:
    swarm_id: uuid.UUID
    case_id: uuid.UUID
    status: str
    started_at: datetime
    ended_at: datetime | None = None
    members: int = 0
    posters: int = 0
    messages: int = 0


SWARM_COLUMNS = tuple(field.name for field in dataclasses.fields(SwarmRow))


@dataclass(frozen=True)
class DeflectionRow:
    suggestion_id: uuid.UUID
    article_id: uuid.UUID
    case_id: uuid.UUID | None
    locale: str
    deflected_at: datetime


DEFLECTION_COLUMNS = tuple(field.name for field in dataclasses.fields(DeflectionRow))


@dataclass(frozen=True)
class Elsewhere:
    """What the batch's cases had told of them before (or without) their own events: the schedule
    sla-engine named (``has_policy``), the start of their first swarm."""

    has_policy: bool
    schedule_id: uuid.UUID | None
    first_swarm: datetime | None


@dataclass(frozen=True)
class Dimensions:
    """A case's dimensions as its facts carry them (all null while the case is not known)."""

    channel: str | None = None
    brand: str | None = None
    group_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    priority: str | None = None

    def columns(self) -> dict[str, Any]:
        """The fact table's columns (built by hand: ``dataclasses.asdict`` copies deeply, per row)."""
        return {
            "channel": self.channel,
            "brand": self.brand,
            "group_id": self.group_id,
            "assignee_id": self.assignee_id,
            "priority": self.priority,
        }

    @classmethod
    def of(cls, row: CaseRow | None) -> Dimensions:
        if row is None:
            return cls()
        return cls(row.channel, row.brand, row.group_id, row.assignee_id, row.priority)


UNKNOWN = Dimensions()

_LOAD_CASES = select(cases)
_LOAD_SURVEYS = select(*(surveys.c[name] for name in SURVEY_COLUMNS))
_LOAD_SWARMS = select(*(swarms.c[name] for name in SWARM_COLUMNS))
_LOAD_SWARM_MEMBERS = select(swarm_members)
_SAVE_SWARMS = UnnestedRows.of(swarms, (*SWARM_COLUMNS, *DIMENSIONS))
_SAVE_SWARM_MEMBERS = UnnestedRows.of(swarm_members, ("swarm_id", "member", "posted"))
# Per case of the batch, one probe each: its policy row and the start of its first swarm.
_LOAD_ELSEWHERE = text(
    """
    SELECT k.case_id, p.case_id IS NOT NULL AS has_policy, p.schedule_id,
           (SELECT min(s.started_at) FROM reporting.swarms s WHERE s.case_id = k.case_id) AS first_swarm
    FROM unnest(CAST(:case_ids AS uuid[])) AS k(case_id)
    LEFT JOIN reporting.case_policies p ON p.case_id = k.case_id
    """
)
_SAVE_CASES = UnnestedRows.of(cases, CASE_COLUMNS)
_SAVE_SURVEYS = UnnestedRows.of(surveys, (*SURVEY_COLUMNS, *DIMENSIONS))
_SAVE_CLOCKS = UnnestedRows.of(sla_clocks, (*CLOCK_COLUMNS, *DIMENSIONS))
_SAVE_POLICIES = UnnestedRows.of(case_policies, ("case_id", "policy_id", "schedule_id"))
_SAVE_DEFLECTIONS = UnnestedRows.of(deflections, (*DEFLECTION_COLUMNS, *DIMENSIONS))
_SAVE_CHANGES = UnnestedRows.of(status_changes, ("case_id", "version", "kind", "at", *DIMENSIONS))
# The facts a batch did not write take the new dimensions of their cases: one statement for the
# six tables (data-modifying WITH), each found by its case_id index.
_SET = ", ".join(f"{name} = d.{name}" for name in DIMENSIONS)
_SET_DIMENSIONS = text(
    f"""
    WITH d AS (
        SELECT * FROM unnest(CAST(:case_id AS uuid[]), CAST(:channel AS text[]), CAST(:brand AS text[]),
                             CAST(:group_id AS uuid[]), CAST(:assignee_id AS uuid[]), CAST(:priority AS text[]))
            AS d(case_id, channel, brand, group_id, assignee_id, priority)
    ),
    changes AS (UPDATE reporting.status_changes f SET {_SET} FROM d WHERE f.case_id = d.case_id),
    spans AS (UPDATE reporting.open_spans f SET {_SET} FROM d WHERE f.case_id = d.case_id),
    clocks AS (UPDATE reporting.sla_clocks f SET {_SET} FROM d WHERE f.case_id = d.case_id),
    swarmed AS (UPDATE reporting.swarms f SET {_SET} FROM d WHERE f.case_id = d.case_id),
    deflected AS (UPDATE reporting.deflections f SET {_SET} FROM d WHERE f.case_id = d.case_id)
    UPDATE reporting.surveys f SET {_SET} FROM d WHERE f.case_id = d.case_id
    """
)
# A case's open span (at most one has no end) ends at its solve.
_CLOSE_SPANS = text(
    """
    UPDATE reporting.open_spans o SET span = tstzrange(lower(o.span), b.at, '[)')
    FROM unnest(CAST(:case_id AS uuid[]), CAST(:at AS timestamptz[])) AS b(case_id, at)
    WHERE o.case_id = b.case_id AND upper_inf(o.span)
    """
)
# A span opened by the batch (its creation or a reopen), closed if the batch also solved it; one
# already recorded (a rebuild, a replay) is kept. One statement for the batch's spans (unnest).
_OPEN_SPANS = text(
    f"""
    INSERT INTO reporting.open_spans (case_id, opened_at, span, {", ".join(DIMENSIONS)})
    SELECT b.case_id, b.opened_at, tstzrange(b.opened_at, b.closed_at, '[)'), {", ".join("b." + d for d in DIMENSIONS)}
    FROM unnest(CAST(:case_id AS uuid[]), CAST(:opened_at AS timestamptz[]), CAST(:closed_at AS timestamptz[]),
                CAST(:channel AS text[]), CAST(:brand AS text[]), CAST(:group_id AS uuid[]),
                CAST(:assignee_id AS uuid[]), CAST(:priority AS text[]))
        AS b(case_id, opened_at, closed_at, {", ".join(DIMENSIONS)})
    ON CONFLICT DO NOTHING
    """
)


class ReadModelRepository(Repository):
    async def cases(self, case_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, CaseRow]:
        rows = await self.session.execute(_LOAD_CASES.where(any_of(cases.c.case_id, case_ids)))
        return {row.case_id: CaseRow(**row._mapping) for row in rows}

    async def surveys(self, survey_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, SurveyRow]:
        rows = await self.session.execute(_LOAD_SURVEYS.where(any_of(surveys.c.survey_id, survey_ids)))
        return {row.survey_id: SurveyRow(**row._mapping) for row in rows}

    async def elsewhere(self, case_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Elsewhere]:
        """For each of ``case_ids`` with a policy row or a swarm: what they say of it."""
        if not case_ids:
            return {}
        rows = await self.session.execute(_LOAD_ELSEWHERE, {"case_ids": list(case_ids)})
        return {
            row.case_id: Elsewhere(row.has_policy, row.schedule_id, row.first_swarm)
            for row in rows
            if row.has_policy or row.first_swarm is not None
        }

    async def swarms(self, swarm_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, SwarmRow]:
        rows = await self.session.execute(_LOAD_SWARMS.where(any_of(swarms.c.swarm_id, swarm_ids)))
        return {row.swarm_id: SwarmRow(**row._mapping) for row in rows}

    async def swarm_members(self, swarm_ids: Collection[uuid.UUID]) -> dict[tuple[uuid.UUID, str], bool]:
        """Who joined each of ``swarm_ids``, and whether they posted."""
        rows = await self.session.execute(_LOAD_SWARM_MEMBERS.where(any_of(swarm_members.c.swarm_id, swarm_ids)))
        return {(row.swarm_id, row.member): row.posted for row in rows}

    async def save_swarms(self, rows: Sequence[tuple[SwarmRow, Dimensions]]) -> None:
        await self._upsert(_SAVE_SWARMS, ("swarm_id",), [dataclasses.asdict(row) | d.columns() for row, d in rows])

    async def save_swarm_members(self, rows: Mapping[tuple[uuid.UUID, str], bool]) -> None:
        await self._upsert(
            _SAVE_SWARM_MEMBERS,
            ("swarm_id", "member"),
            [{"swarm_id": swarm_id, "member": member, "posted": posted} for (swarm_id, member), posted in rows.items()],
        )

    async def set_dimensions(self, changed: Mapping[uuid.UUID, Dimensions]) -> None:
        """Every recorded fact of these cases takes their new dimensions."""
        if changed:
            values = [dataclasses.astuple(dimensions) for dimensions in changed.values()]
            columns = {name: [row[i] for row in values] for i, name in enumerate(DIMENSIONS)}
            await self.session.execute(_SET_DIMENSIONS, {"case_id": list(changed), **columns})

    async def save_cases(self, rows: Sequence[CaseRow]) -> None:
        await self._upsert(_SAVE_CASES, ("case_id",), [dataclasses.asdict(row) for row in rows])

    async def save_surveys(self, rows: Sequence[tuple[SurveyRow, Dimensions]]) -> None:
        await self._upsert(_SAVE_SURVEYS, ("survey_id",), [dataclasses.asdict(row) | d.columns() for row, d in rows])

    async def save_policies(self, rows: Sequence[dict[str, Any]]) -> None:
        await self._upsert(_SAVE_POLICIES, ("case_id",), rows)

    async def add_deflections(self, rows: Sequence[tuple[DeflectionRow, Dimensions]]) -> None:
        """Deflections; one already recorded (the event delivered again) is kept as it is."""
        if rows:
            statement = _SAVE_DEFLECTIONS.insert.on_conflict_do_nothing()
            await self.session.execute(
                statement, _SAVE_DEFLECTIONS.parameters([dataclasses.asdict(r) | d.columns() for r, d in rows])
            )

    async def add_status_changes(self, rows: Sequence[dict[str, Any]]) -> None:
        """Solves and reopens; one already recorded (a rebuild, a replay) is kept as it is."""
        if rows:
            statement = _SAVE_CHANGES.insert.on_conflict_do_nothing()
            await self.session.execute(statement, _SAVE_CHANGES.parameters(rows))

    async def close_spans(self, rows: Sequence[tuple[uuid.UUID, datetime]]) -> None:
        """End the open span of each case at its solve (spans the batch opened are written closed)."""
        if rows:
            await self.session.execute(
                _CLOSE_SPANS, {"case_id": [case_id for case_id, _ in rows], "at": [at for _, at in rows]}
            )

    async def open_spans(self, rows: Sequence[tuple[uuid.UUID, datetime, datetime | None, Dimensions]]) -> None:
        if rows:
            columns: dict[str, list[Any]] = {"case_id": [], "opened_at": [], "closed_at": []}
            columns |= {name: [] for name in DIMENSIONS}
            for case_id, opened, closed, dimensions in rows:
                columns["case_id"].append(case_id)
                columns["opened_at"].append(opened)
                columns["closed_at"].append(closed)
                for name, value in dimensions.columns().items():
                    columns[name].append(value)
            await self.session.execute(_OPEN_SPANS, columns)

    async def replace_clocks(
        self, case_ids: Collection[uuid.UUID], rows: Sequence[tuple[ClockRow, Dimensions]]
    ) -> None:
        """The SLA clocks of ``case_ids`` become ``rows`` (sla-engine tells the whole set each time)."""
        if not case_ids:
            return
        await self.session.execute(delete(sla_clocks).where(any_of(sla_clocks.c.case_id, case_ids)))
        if rows:
            await self.session.execute(
                _SAVE_CLOCKS.insert,
                _SAVE_CLOCKS.parameters([dataclasses.asdict(r) | d.columns() for r, d in rows]),
            )

    async def _upsert(self, unnested: UnnestedRows, key: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(unnested.upsert(key), unnested.parameters(rows))
