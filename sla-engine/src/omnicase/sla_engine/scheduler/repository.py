"""Every query on the due-timers table.

Claiming is one statement: pick the earliest due rows nobody holds (no lease or an
expired one) with ``FOR UPDATE SKIP LOCKED`` so concurrent schedulers never pick the
same row, and stamp them with this worker's lease in the same statement. The lease
is committed at once; a worker that dies mid-job simply lets it expire and another
worker claims the row again. Completion deletes the row only if it still carries
*our* lease: a timer rescheduled meanwhile (new due time, lease cleared) survives.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, any_, bindparam, delete, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY, Insert, insert

from omnicase.kit.db import UnnestedRows
from omnicase.kit.repository import Repository
from omnicase.sla_engine.models import timers


@dataclass(frozen=True)
class TimerPlan:
    """A timer as it should be: key, kind, due time, case and payload."""

    key: str
    kind: str
    due_at: datetime
    case_id: uuid.UUID | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class ClaimedTimer:
    id: int
    key: str
    kind: str
    case_id: uuid.UUID | None
    due_at: datetime
    lease: datetime
    attempts: int
    payload: dict[str, Any]


# Built once, the rows as one array per column: one statement runs the whole batch.
_SCHEDULED_ROWS = UnnestedRows.of(timers, ("key", "kind", "case_id", "due_at", "payload", "attempts"))


def _schedule() -> Insert:
    new = _SCHEDULED_ROWS.insert.excluded
    return _SCHEDULED_ROWS.insert.on_conflict_do_update(
        index_elements=[timers.c.key],
        set_={"due_at": new.due_at, "locked_until": None, "attempts": 0, "payload": new.payload},
        where=or_(
            timers.c.due_at != new.due_at,
            and_(
                timers.c.locked_until.is_(None),
                or_(timers.c.attempts != 0, timers.c.payload != new.payload),
            ),
        ),
    )


_SCHEDULE = _schedule()


class TimerRepository(Repository):
    async def schedule(
        self,
        key: str,
        kind: str,
        due_at: datetime,
        *,
        case_id: uuid.UUID | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        """Create the timer ``key`` or move it to ``due_at`` (clearing any lease and attempts)."""
        await self.schedule_all([TimerPlan(key, kind, due_at, case_id, payload or {})])

    async def schedule_all(self, plans: Sequence[TimerPlan]) -> None:
        """:meth:`schedule` for many timers (distinct keys) in one multi-row statement.

        A timer already due at that time with no lease (and a clean slate) is left as it
        is, no row rewritten; an unchanged due time also keeps a lease in flight instead
        of resetting it.
        """
        # One row per key (the last plan given): PostgreSQL updates a row at most once per statement.
        latest = {plan.key: plan for plan in plans}
        rows = [
            {
                "key": plan.key,
                "kind": plan.kind,
                "case_id": plan.case_id,
                "due_at": plan.due_at,
                "payload": plan.payload,
                "attempts": 0,
            }
            for plan in sorted(latest.values(), key=lambda plan: plan.key)
        ]
        if rows:
            await self.session.execute(_SCHEDULE, _SCHEDULED_ROWS.parameters(rows))

    async def schedule_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Bulk insert of new timers (keys must be new): for seeding and benchmarks."""
        if rows:
            await self.session.execute(insert(timers).on_conflict_do_nothing(index_elements=[timers.c.key]), rows)

    async def cancel(self, keys: Collection[str]) -> None:
        if keys:
            wanted = bindparam("keys", sorted(set(keys)), type_=ARRAY(String))
            await self.session.execute(delete(timers).where(timers.c.key == any_(wanted)))

    async def claim(
        self, now: datetime, lease_until: datetime, limit: int, kinds: Collection[str]
    ) -> list[ClaimedTimer]:
        """Lease up to ``limit`` due timers of ``kinds``, earliest first."""
        due = (
            select(timers.c.id)
            .where(
                timers.c.due_at <= now,
                or_(timers.c.locked_until.is_(None), timers.c.locked_until <= now),
                timers.c.kind.in_(list(kinds)),
            )
            .order_by(timers.c.due_at, timers.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .cte("due")
        )
        statement = (
            update(timers)
            .where(timers.c.id == due.c.id)
            .values(locked_until=lease_until, attempts=timers.c.attempts + 1)
            .returning(*timers.c)
        )
        rows = (await self.session.execute(statement)).all()
        claimed = [
            ClaimedTimer(
                id=row.id,
                key=row.key,
                kind=row.kind,
                case_id=row.case_id,
                due_at=row.due_at,
                lease=lease_until,
                attempts=row.attempts,
                payload=row.payload,
            )
            for row in rows
        ]
        claimed.sort(key=lambda timer: (timer.due_at, timer.id))
        return claimed

    async def hold(self, claimed: Sequence[ClaimedTimer]) -> set[int]:
        """Lock the claimed timers that still carry our lease; the ids returned are ours to fire now.

        A worker slow enough for its lease to run out may find a timer re-claimed by
        another: it must not fire it too. The row lock makes the check and the firing
        one step, since the other worker needs the same lock to fire or complete.
        ``SKIP LOCKED``: a timer being rescheduled by a consumer right now is not waited
        for (waiting while holding other timers could deadlock with it).
        """
        if not claimed:
            return set()
        by_lease: dict[datetime, list[int]] = {}
        for timer in claimed:
            by_lease.setdefault(timer.lease, []).append(timer.id)
        held: set[int] = set()
        for lease, ids in by_lease.items():
            query = (
                select(timers.c.id)
                .where(timers.c.id.in_(ids), timers.c.locked_until == lease)
                .order_by(timers.c.id)
                .with_for_update(skip_locked=True)
            )
            held.update((await self.session.scalars(query)).all())
        return held

    async def complete(self, claimed: Sequence[ClaimedTimer]) -> None:
        """Delete fired timers that still carry the lease we claimed them with."""
        if not claimed:
            return
        by_lease: dict[datetime, list[int]] = {}
        for timer in claimed:
            by_lease.setdefault(timer.lease, []).append(timer.id)
        for lease, ids in by_lease.items():
            await self.session.execute(delete(timers).where(timers.c.id.in_(ids), timers.c.locked_until == lease))

    async def unlease(self, claimed: Sequence[ClaimedTimer]) -> None:
        """Give timers back as they were (not fired, no attempt counted), for the next round."""
        for timer in claimed:
            await self.session.execute(
                update(timers)
                .where(timers.c.id == timer.id, timers.c.locked_until == timer.lease)
                .values(locked_until=None, attempts=timers.c.attempts - 1)
            )

    async def release(self, timer: ClaimedTimer, due_at: datetime) -> None:
        """Give a failed timer back for another attempt at ``due_at`` (if nobody rescheduled it)."""
        await self.session.execute(
            update(timers)
            .where(timers.c.id == timer.id, timers.c.locked_until == timer.lease)
            .values(due_at=due_at, locked_until=None)
        )

    async def continue_later(self, timer: ClaimedTimer, due_at: datetime, payload: dict[str, Any]) -> None:
        """Keep a claimed timer for another round (a job done in pages) instead of completing it."""
        await self.session.execute(
            update(timers)
            .where(timers.c.id == timer.id, timers.c.locked_until == timer.lease)
            .values(due_at=due_at, payload=payload, locked_until=None, attempts=0)
        )

    async def pending_for_case(self, case_id: uuid.UUID) -> list[tuple[str, datetime]]:
        query = select(timers.c.key, timers.c.due_at).where(timers.c.case_id == case_id).order_by(timers.c.due_at)
        return [(row.key, row.due_at) for row in await self.session.execute(query)]
