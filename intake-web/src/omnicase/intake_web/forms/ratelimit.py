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
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

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
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, Insert, insert
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_web.models import form_day_counts, rate_windows
from omnicase.kit.coalesce import Coalescer
from omnicase.kit.db import Database, UnnestedRows, without_flush_wait

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


_WINDOW_ROWS = UnnestedRows.of(rate_windows, ["scope", "window_start", "hits"])
_DAY_ROWS = UnnestedRows.of(form_day_counts, ["form_id", "day", "accepted"])


def _count_accepted() -> Select[tuple[str | None, datetime | None, uuid.UUID | None, date | None, int]]:
    """The posts' hits added to their windows and their forms' days; every row's count after them."""
    windows, days = _WINDOW_ROWS.insert, _DAY_ROWS.insert
    hits = (
        windows.on_conflict_do_update(
            index_elements=[rate_windows.c.scope, rate_windows.c.window_start],
            set_={"hits": rate_windows.c.hits + windows.excluded.hits},
        )
        .returning(rate_windows.c.scope, rate_windows.c.window_start, rate_windows.c.hits)
        .cte("hits")
    )
    today = (
        days.on_conflict_do_update(
            index_elements=[form_day_counts.c.form_id, form_day_counts.c.day],
            set_={"accepted": form_day_counts.c.accepted + days.excluded.accepted},
        )
        .returning(form_day_counts.c.form_id, form_day_counts.c.day, form_day_counts.c.accepted)
        .cte("today")
    )
    # The windows read first, so the days' rows are the last ones locked, in every statement.
    counts = union_all(
        select(
            hits.c.scope,
            hits.c.window_start,
            literal(None, Uuid).label("form_id"),
            literal(None, Date).label("day"),
            hits.c.hits.label("count"),
        ),
        select(
            literal(None, String).label("scope"),
            literal(None, DateTime(timezone=True)).label("window_start"),
            today.c.form_id,
            today.c.day,
            today.c.accepted.label("count"),
        ),
    ).subquery("counts")
    return without_flush_wait(select(*counts.c))


# Built once: every post runs them, and building one cost more than running it.
_HIT = _hits_upsert()
_HITS = _hits_upsert().returning(rate_windows.c.scope, rate_windows.c.hits)
_COUNT_ACCEPTED = _count_accepted()


def _window(scopes: list[str], now: datetime) -> dict[str, Any]:
    return {"scopes": sorted({scope[:200] for scope in scopes}), "window_start": window_start(now)}


@dataclass(frozen=True)
class _Post:
    scopes: tuple[str, ...]  # each once, sorted
    window_start: datetime
    form_id: uuid.UUID
    day: date


class AcceptedCounts:
    """Counts accepted posts in their rate scopes and their form's day: one statement run alone
    for all the posts that arrive while one is in flight (each still gets its own counts)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._posts = Coalescer(self._count, name="intake-web-accepted-counts")

    async def count(self, scopes: list[str], form_id: uuid.UUID, day: date, now: datetime) -> Counts:
        window = _window(scopes, now)
        return await self._posts.submit(_Post(tuple(window["scopes"]), window["window_start"], form_id, day))

    async def close(self) -> None:
        await self._posts.close()

    async def _count(self, posts: list[_Post]) -> list[Counts]:
        added_hits = Counter((scope, post.window_start) for post in posts for scope in post.scopes)
        added_days = Counter((post.form_id, post.day) for post in posts)
        # Sorted, so concurrent statements (other replicas) lock these rows in the same order.
        windows = [{"scope": s, "window_start": w, "hits": n} for (s, w), n in sorted(added_hits.items())]
        days = [{"form_id": f, "day": d, "accepted": n} for (f, d), n in sorted(added_days.items())]
        rows = await self.database.alone(
            _COUNT_ACCEPTED, {**_WINDOW_ROWS.parameters(windows), **_DAY_ROWS.parameters(days)}
        )
        after: dict[tuple[object, object], int] = {}
        for row in rows:
            key = (row.scope, row.window_start) if row.scope is not None else (row.form_id, row.day)
            after[key] = int(row._mapping["count"])  # row.count would be the tuple method
        # A key's first post in this statement counts as the one after the posts before it.
        next_hit = {key: after[key] - added for key, added in added_hits.items()}
        next_day = {key: after[key] - added for key, added in added_days.items()}
        answers = []
        for post in posts:
            hits = {}
            for scope in post.scopes:
                next_hit[(scope, post.window_start)] += 1
                hits[scope] = next_hit[(scope, post.window_start)]
            next_day[(post.form_id, post.day)] += 1
            answers.append(Counts(hits=hits, accepted_today=next_day[(post.form_id, post.day)]))
        return answers


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
