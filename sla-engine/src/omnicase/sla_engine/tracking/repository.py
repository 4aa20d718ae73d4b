"""Every query on the case projection and milestones."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Table, and_, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.db import UnnestedRows, any_of
from omnicase.kit.events import CaseSnapshot, CaseStatus
from omnicase.kit.repository import Repository
from omnicase.sla_engine.models import cases, milestones
from omnicase.sla_engine.policies.schemas import MilestoneKind
from omnicase.sla_engine.tracking.milestones import Milestone


@dataclass
class CaseState:
    case_id: uuid.UUID
    version: int
    snapshot: CaseSnapshot
    status: CaseStatus
    status_since: datetime
    policy_id: uuid.UUID | None
    last_agent_reply_at: datetime | None = None
    last_customer_message_at: datetime | None = None
    # The snapshot as its row stores it, while ``snapshot`` is still the one read from
    # that row: writing the row back needs no dump of an unchanged snapshot.
    stored_snapshot: tuple[CaseSnapshot, dict[str, Any]] | None = field(default=None, compare=False, repr=False)

    def snapshot_json(self) -> dict[str, Any]:
        if self.stored_snapshot is not None and self.stored_snapshot[0] is self.snapshot:
            return self.stored_snapshot[1]
        dumped: dict[str, Any] = self.snapshot.model_dump(mode="json")
        return dumped


def _case_state(row: Any) -> CaseState:
    snapshot = CaseSnapshot.model_validate(row.snapshot)
    return CaseState(
        case_id=row.case_id,
        version=row.version,
        snapshot=snapshot,
        status=CaseStatus(row.status),
        status_since=row.status_since,
        policy_id=row.policy_id,
        last_agent_reply_at=row.last_agent_reply_at,
        last_customer_message_at=row.last_customer_message_at,
        stored_snapshot=(snapshot, row.snapshot),
    )


def _segments_out(segments: list[tuple[datetime, datetime]]) -> list[list[str]]:
    return [[start.isoformat(), end.isoformat()] for start, end in segments]


def _segments_in(raw: list[list[str]]) -> list[tuple[datetime, datetime]]:
    return [(datetime.fromisoformat(start), datetime.fromisoformat(end)) for start, end in raw]


def _milestone(row: Any) -> Milestone:
    values = dict(row._mapping)
    values["kind"] = MilestoneKind(values["kind"])
    values["segments"] = _segments_in(values["segments"])
    return Milestone(**values)


def case_row(state: CaseState) -> dict[str, Any]:
    return {
        "case_id": state.case_id,
        "version": state.version,
        "snapshot": state.snapshot_json(),
        "status": state.status.value,
        "status_since": state.status_since,
        "policy_id": state.policy_id,
        "last_agent_reply_at": state.last_agent_reply_at,
        "last_customer_message_at": state.last_customer_message_at,
        "created_at": state.snapshot.created_at,
        "updated_at": state.snapshot.updated_at,
    }


def milestone_row(milestone: Milestone) -> dict[str, Any]:
    return {
        "id": milestone.id,
        "case_id": milestone.case_id,
        "kind": milestone.kind.value,
        "cycle": milestone.cycle,
        "started_at": milestone.started_at,
        "segments": _segments_out(milestone.segments),
        "running_since": milestone.running_since,
        "policy_id": milestone.policy_id,
        "target_seconds": milestone.target_seconds,
        "business_hours": milestone.business_hours,
        "schedule_id": milestone.schedule_id,
        "warning_percent": milestone.warning_percent,
        "warn_at": milestone.warn_at,
        "due_at": milestone.due_at,
        "achieved_at": milestone.achieved_at,
        "achieved_seconds": milestone.achieved_seconds,
        "cancelled_at": milestone.cancelled_at,
        "stopped_by_solve": milestone.stopped_by_solve,
        "warned_at": milestone.warned_at,
        "breached_at": milestone.breached_at,
    }


async def _upsert(
    session: AsyncSession,
    table: Table,
    order: tuple[str, ...],
    rows: Sequence[dict[str, Any]],
    *,
    conflict: tuple[str, ...] | None = None,
) -> None:
    """Insert or replace ``rows`` by one unnested statement, sorted by ``order``.

    One row per ``conflict`` key (``order`` unless given), the last given, as PostgreSQL
    updates a row at most once per statement.
    """
    if not rows:
        return
    key = conflict or order
    latest = {tuple(row[name] for name in key): row for row in rows}
    ordered = sorted(latest.values(), key=lambda row: tuple(row[name] for name in order))
    unnested = UnnestedRows.of(table, tuple(ordered[0]))
    await session.execute(unnested.upsert(key), unnested.parameters(ordered))


class TrackingRepository(Repository):
    async def lock_case(self, case_id: uuid.UUID) -> CaseState | None:
        query = select(cases).where(cases.c.case_id == case_id).with_for_update()
        row = (await self.session.execute(query)).one_or_none()
        return _case_state(row) if row is not None else None

    async def lock_cases(self, case_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, CaseState]:
        """Lock and read these cases' rows in one statement, in case-id order (so two consumers
        locking overlapping sets cannot deadlock); a case never seen has no row and is absent."""
        if not case_ids:
            return {}
        query = (
            select(cases)
            .where(any_of(cases.c.case_id, sorted(set(case_ids))))
            .order_by(cases.c.case_id)
            .with_for_update()
        )
        return {row.case_id: _case_state(row) for row in await self.session.execute(query)}

    async def milestones_of(self, case_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, list[Milestone]]:
        """Every milestone of these cases (read under their case rows' locks), by case, in kind and cycle order."""
        found: dict[uuid.UUID, list[Milestone]] = {case_id: [] for case_id in case_ids}
        if not case_ids:
            return found
        query = (
            select(milestones)
            .where(any_of(milestones.c.case_id, sorted(set(case_ids))))
            .order_by(milestones.c.case_id, milestones.c.kind, milestones.c.cycle)
        )
        for row in await self.session.execute(query):
            found[row.case_id].append(_milestone(row))
        return found

    async def save_cases_rows(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert or replace case rows (:func:`case_row`): one statement, in case order (the lock order)."""
        await _upsert(self.session, cases, ("case_id",), rows)

    async def save_milestone_rows(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert or replace milestone rows (:func:`milestone_row`), as :meth:`save_cases_rows` does."""
        await _upsert(self.session, milestones, ("case_id", "id"), rows, conflict=("id",))

    async def lock_cases_free(self, case_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """Lock those of these case rows nobody else holds; returns the ones another transaction holds.

        Never waits (``SKIP LOCKED``). A case this service has never seen has no row to
        protect and is not busy.
        """
        if not case_ids:
            return set()
        wanted = sorted(set(case_ids))
        lock = select(cases.c.case_id).where(cases.c.case_id.in_(wanted)).with_for_update(skip_locked=True)
        missing = set(wanted) - set((await self.session.scalars(lock)).all())
        if not missing:
            return set()
        return set((await self.session.scalars(select(cases.c.case_id).where(cases.c.case_id.in_(missing)))).all())

    async def lock_open_cases(self, after: uuid.UUID | None, limit: int) -> list[CaseState]:
        """The next cases not closed after ``after`` (by id) that nobody else holds right now.

        ``SKIP LOCKED``: a case the consumer is changing at this moment is skipped, it
        gets the current configuration from that change anyway; and never waiting
        means this walk cannot deadlock with the consumer's batches.
        """
        query = (
            select(cases)
            .where(cases.c.status != CaseStatus.CLOSED.value)
            .order_by(cases.c.case_id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        if after is not None:
            query = query.where(cases.c.case_id > after)
        return [_case_state(row) for row in await self.session.execute(query)]

    async def get_case(self, case_id: uuid.UUID) -> CaseState | None:
        row = (await self.session.execute(select(cases).where(cases.c.case_id == case_id))).one_or_none()
        return _case_state(row) if row is not None else None

    async def save_case(self, state: CaseState) -> None:
        await self.save_cases_rows([case_row(state)])

    async def milestones(self, case_id: uuid.UUID, *, for_update: bool = False) -> list[Milestone]:
        query = (
            select(milestones).where(milestones.c.case_id == case_id).order_by(milestones.c.kind, milestones.c.cycle)
        )
        if for_update:
            query = query.with_for_update()
        return [_milestone(row) for row in await self.session.execute(query)]

    async def lock_milestone(self, milestone_id: uuid.UUID) -> Milestone | None:
        query = select(milestones).where(milestones.c.id == milestone_id).with_for_update()
        row = (await self.session.execute(query)).one_or_none()
        return _milestone(row) if row else None

    async def save_milestones(self, items: Sequence[Milestone]) -> None:
        await self.save_milestone_rows([milestone_row(milestone) for milestone in items])

    async def mark_fired(self, milestone_id: uuid.UUID, level: str, at: datetime) -> None:
        column = "warned_at" if level == "warning" else "breached_at"
        await self.session.execute(update(milestones).where(milestones.c.id == milestone_id).values({column: at}))

    async def attainment(
        self, since: datetime, until: datetime, policy_id: uuid.UUID | None, interval: str | None = None
    ) -> list[dict[str, Any]]:
        """Per policy and milestone kind (and ``interval`` bucket: day, week, month, in UTC): decided
        milestones in the period, on-time share, breaches, times."""
        achieved_in = and_(milestones.c.achieved_at >= since, milestones.c.achieved_at < until)
        breached_open = and_(
            milestones.c.achieved_at.is_(None),
            milestones.c.breached_at >= since,
            milestones.c.breached_at < until,
        )
        on_time = and_(achieved_in, milestones.c.breached_at.is_(None))
        decided_at = func.coalesce(milestones.c.achieved_at, milestones.c.breached_at)
        bucket = (
            func.date_trunc(interval, decided_at, "UTC")
            if interval is not None
            else literal(None, type_=DateTime(timezone=True))
        ).label("period_start")
        query = (
            select(
                bucket,
                milestones.c.policy_id,
                milestones.c.kind,
                func.count().label("total"),
                func.count().filter(on_time).label("achieved_on_time"),
                func.count().filter(milestones.c.breached_at.is_not(None)).label("breaches"),
                func.percentile_cont(0.5)
                .within_group(milestones.c.achieved_seconds)
                .filter(achieved_in)
                .label("median_seconds"),
                func.percentile_cont(0.9)
                .within_group(milestones.c.achieved_seconds)
                .filter(achieved_in)
                .label("p90_seconds"),
            )
            .where(milestones.c.policy_id.is_not(None), milestones.c.target_seconds.is_not(None))
            .where(or_(achieved_in, breached_open))
            .group_by(bucket, milestones.c.policy_id, milestones.c.kind)
            .order_by(bucket, milestones.c.policy_id, milestones.c.kind)
        )
        if policy_id is not None:
            query = query.where(milestones.c.policy_id == policy_id)
        return [dict(row._mapping) for row in await self.session.execute(query)]
