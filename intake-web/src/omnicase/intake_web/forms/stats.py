"""Per-form daily counts: what was accepted and what was refused, by reason."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_web.models import form_rejections


async def count_rejection(session: AsyncSession, form_id: uuid.UUID, day: date, reason: str) -> None:
    statement = insert(form_rejections).values(form_id=form_id, day=day, reason=reason[:40], count=1)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[form_rejections.c.form_id, form_rejections.c.day, form_rejections.c.reason],
            set_={"count": form_rejections.c.count + 1},
        )
    )


async def rejections_on(session: AsyncSession, form_id: uuid.UUID, day: date) -> dict[str, int]:
    result = await session.execute(
        select(form_rejections.c.reason, form_rejections.c.count.label("refused")).where(
            form_rejections.c.form_id == form_id, form_rejections.c.day == day
        )
    )
    return {row.reason: row.refused for row in result}


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC day as a half-open interval (the daily cap counts UTC days)."""
    start = datetime.combine(day, time(0), tzinfo=UTC)
    return start, start + timedelta(days=1)
