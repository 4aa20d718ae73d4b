"""Counters shared by every replica: fixed-window rate limits and each form's daily count.

A post is counted before it is stored, by one statement run alone (its own transaction, one
round trip) that commits without waiting for the WAL flush: the form's counter rows are
updated by every post, and a lock held through a flush queued each post to the form behind the one before (about 60 ms a
post at 8 concurrent clients). Its post's durable commit comes later, and the WAL is
flushed in order, so a stored submission's count is never lost in a crash. A post refused
by a limit, or not stored after all (a repeat, a failure), is taken out of the counts
again, so it changes nothing; a crash between the two can only over-count, which refuses
early and never lets a post past a limit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import (
    Date,
    DateTime,
    Integer,
    Select,
    String,
    Uuid,
    bindparam,
    delete,
    func,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, Insert, insert
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_web.models import form_day_counts, rate_windows
from omnicase.kit.db import Database, without_flush_wait

WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class Counts:
    """Counts after this submission: per scope in the current window, and the form's today."""

    hits: dict[str, int]
    accepted_today: int


def window_start(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0)


def retry_after(now: datetime) -> int:
    """Seconds until the current window ends."""
    return max(1, int((window_start(now) + WINDOW - now).total_seconds() + 0.999))


def _hits_upsert() -> Insert:
    # The scopes as one array parameter, not rows of .values(): a statement of the same
    # text for any number of scopes. Sorted (by the caller), so concurrent transactions
    # lock these rows in the same order.
    rows = select(
        func.unnest(bindparam("scopes", type_=ARRAY(String))).label("scope"),
        bindparam("window_start", type_=DateTime(timezone=True)).label("window_start"),
        literal(1, Integer).label("hits"),
    )
    statement = insert(rate_windows).from_select(["scope", "window_start", "hits"], rows)
    return statement.on_conflict_do_update(
        index_elements=[rate_windows.c.scope, rate_windows.c.window_start],
        set_={"hits": rate_windows.c.hits + 1},
    )


def _count_accepted() -> Select[tuple[str, int, int]]:
    hits = _hits_upsert().returning(rate_windows.c.scope, rate_windows.c.hits).cte("hits")
    # Reading every hit first makes the day's row the last one locked, in every transaction.
    after_hits = select(
        bindparam("form_id", type_=Uuid).label("form_id"),
        bindparam("day", type_=Date).label("day"),
        literal(1, Integer).label("accepted"),
    ).select_from(select(func.count()).select_from(hits).subquery())
    today = (
        insert(form_day_counts)
        .from_select(["form_id", "day", "accepted"], after_hits)
        .on_conflict_do_update(
            index_elements=[form_day_counts.c.form_id, form_day_counts.c.day],
            set_={"accepted": form_day_counts.c.accepted + 1},
        )
        .returning(form_day_counts.c.accepted)
        .cte("today")
    )
    return without_flush_wait(select(hits.c.scope, hits.c.hits, today.c.accepted).join(today, true()))


# Built once: every post runs them, and building one cost more than running it.
_HIT = _hits_upsert()
_HITS = _hits_upsert().returning(rate_windows.c.scope, rate_windows.c.hits)
_COUNT_ACCEPTED = _count_accepted()


def _window(scopes: list[str], now: datetime) -> dict[str, object]:
    return {"scopes": sorted({scope[:200] for scope in scopes}), "window_start": window_start(now)}


async def count_accepted(database: Database, scopes: list[str], form_id: uuid.UUID, day: date, now: datetime) -> Counts:
    """Count one accepted submission in each rate scope and in the form's day: one statement, run alone."""
    rows = await database.alone(_COUNT_ACCEPTED, {**_window(scopes, now), "form_id": form_id, "day": day})
    return Counts(hits={row.scope: row.hits for row in rows}, accepted_today=rows[0].accepted)


async def uncount_accepted(
    session: AsyncSession, scopes: list[str], form_id: uuid.UUID, day: date, now: datetime
) -> None:
    """Take back what :func:`count_accepted` counted at ``now`` for a post that was not stored."""
    given = sorted({scope[:200] for scope in scopes})
    await session.execute(
        update(rate_windows)
        .where(rate_windows.c.scope.in_(given), rate_windows.c.window_start == window_start(now))
        .values(hits=rate_windows.c.hits - 1)
    )
    await session.execute(
        update(form_day_counts)
        .where(form_day_counts.c.form_id == form_id, form_day_counts.c.day == day)
        .values(accepted=form_day_counts.c.accepted - 1)
    )


async def hit(session: AsyncSession, scopes: list[str], now: datetime) -> None:
    """Count one request in each scope's current window (a refused one still counts)."""
    await session.execute(_HIT, _window(scopes, now))


async def hits(session: AsyncSession, scopes: list[str], now: datetime) -> dict[str, int]:
    """Count one request in each scope's current window; each scope's count in it, this one included."""
    rows = await session.execute(_HITS, _window(scopes, now))
    return {row.scope: row.hits for row in rows}


async def prune(session: AsyncSession, now: datetime) -> None:
    await session.execute(delete(rate_windows).where(rate_windows.c.window_start < now - 2 * WINDOW))
    # The cap needs today's count only (stats count the stored submissions).
    await session.execute(delete(form_day_counts).where(form_day_counts.c.day < (now - timedelta(days=2)).date()))
