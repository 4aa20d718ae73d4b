"""Every query on the case projection."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case as when
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from omnicase.collaboration.models import case_sla, cases
from omnicase.kit.repository import Repository


@dataclass(frozen=True)
class CaseRecord:
    id: uuid.UUID
    number: int
    subject: str
    description: str
    status: str
    priority: str
    assignee_id: uuid.UUID | None
    group_id: uuid.UUID | None
    requester_id: uuid.UUID | None
    brand: str | None
    language: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    solved_at: datetime | None
    solved_by: uuid.UUID | None


def _record(row: Any) -> CaseRecord:
    return CaseRecord(**row._mapping)


class CaseRepository(Repository):
    async def get(self, case_id: uuid.UUID) -> CaseRecord | None:
        row = (await self.session.execute(select(cases).where(cases.c.id == case_id))).one_or_none()
        return _record(row) if row else None

    async def sla_due(self, case_id: uuid.UUID) -> datetime | None:
        return await self.session.scalar(select(case_sla.c.due_at).where(case_sla.c.case_id == case_id))

    async def set_sla_due(self, rows: list[dict[str, Any]]) -> None:
        """Each case's next SLA due time, as of sla-engine's latest event about it."""
        if not rows:
            return
        statement = insert(case_sla)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[case_sla.c.case_id],
                set_={"due_at": statement.excluded.due_at, "updated_at": statement.excluded.updated_at},
            ),
            rows,
        )

    async def upsert(self, rows: list[dict[str, Any]]) -> None:
        """Each case as of its newest version; an older or repeated snapshot changes nothing.

        ``description`` comes only with ``case.created``: later snapshots keep the stored one.
        ``solved_at``/``solved_by`` are set when a case becomes solved and cleared when it reopens.
        """
        if not rows:
            return
        # Rows as parameters (one statement the driver batches), so the statement itself caches.
        statement = insert(cases)
        new = statement.excluded
        solved_now = (new.status == "solved") & (cases.c.status != "solved")
        still_solved = new.status.in_(("solved", "closed"))
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[cases.c.id],
                set_={
                    **{
                        name: new[name]
                        for name in (
                            "number",
                            "subject",
                            "status",
                            "priority",
                            "assignee_id",
                            "group_id",
                            "requester_id",
                            "brand",
                            "language",
                            "version",
                            "updated_at",
                        )
                    },
                    "description": when((new.description != "", new.description), else_=cases.c.description),
                    "solved_at": when((solved_now, new.updated_at), (still_solved, cases.c.solved_at), else_=None),
                    "solved_by": when((solved_now, new.assignee_id), (still_solved, cases.c.solved_by), else_=None),
                },
                where=cases.c.version < new.version,
            ),
            rows,
        )
