"""Fixed-window rate limits counted in PostgreSQL, so every replica shares them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_web.models import rate_windows

WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class Hit:
    count: int
    retry_after: int


def window_start(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0)


async def hit(session: AsyncSession, scope: str, now: datetime) -> Hit:
    """Count one request in ``scope``'s current window; returns the count so far."""
    start = window_start(now)
    insert_row = insert(rate_windows).values(scope=scope[:200], window_start=start, hits=1)
    statement = insert_row.on_conflict_do_update(
        index_elements=[rate_windows.c.scope, rate_windows.c.window_start],
        set_={"hits": rate_windows.c.hits + 1},
    ).returning(rate_windows.c.hits)
    count = int((await session.execute(statement)).scalar_one())
    retry_after = max(1, int((start + WINDOW - now).total_seconds() + 0.999))
    return Hit(count=count, retry_after=retry_after)


async def prune(session: AsyncSession, now: datetime) -> None:
    await session.execute(delete(rate_windows).where(rate_windows.c.window_start < now - 2 * WINDOW))
