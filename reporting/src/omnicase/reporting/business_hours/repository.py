"""The cases whose business-hours durations are to be counted, and their counted durations."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update

from omnicase.kit.repository import Repository
from omnicase.reporting.models import cases

_STALE = (
    select(cases.c.case_id, cases.c.schedule_id, cases.c.created_at, cases.c.first_reply_at, cases.c.solved_at)
    .where(cases.c.business_stale)
    .order_by(cases.c.case_id)
    .with_for_update(skip_locked=True)
)
# Written only where the times are still those counted: a batch of the consumer that moved them
# meanwhile marked the row stale again and it is counted at the next turn.
_COUNTED = (
    update(cases)
    .where(cases.c.case_id == bindparam("b_case_id"))
    .where(cases.c.schedule_id.is_not_distinct_from(bindparam("b_schedule_id")))
    .where(cases.c.first_reply_at.is_not_distinct_from(bindparam("b_first_reply_at")))
    .where(cases.c.solved_at.is_not_distinct_from(bindparam("b_solved_at")))
    .values(
        first_reply_business_seconds=bindparam("b_first_reply"),
        resolution_business_seconds=bindparam("b_resolution"),
        business_stale=False,
    )
)


@dataclass(frozen=True)
class StaleCase:
    case_id: uuid.UUID
    schedule_id: uuid.UUID | None
    created_at: datetime
    first_reply_at: datetime | None
    solved_at: datetime | None


class BusinessHoursRepository(Repository):
    async def stale(self, limit: int) -> list[StaleCase]:
        rows = await self.session.execute(_STALE.limit(limit))
        return [StaleCase(**row._mapping) for row in rows]

    async def counted(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(_COUNTED.execution_options(synchronize_session=False), list(rows))
