"""Every query of the rate limiter: one shared counter per (policy:subject, window).

The limiter runs before every request, so it does not open a unit of work: it holds
its own small engine in autocommit mode without pre-ping, and a hit is one statement,
one round trip (``INSERT … ON CONFLICT DO UPDATE … RETURNING``), atomic on its own.
Rows are taken in key order so two requests that count the same two keys never
deadlock.
"""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from omnicase.gateway.models import rate_limit_counters as counters


def create_counter_engine(url: str, *, pool_size: int) -> AsyncEngine:
    """Autocommit (no BEGIN/COMMIT around the hit), no pre-ping (no extra round trip per checkout),
    and commits that do not wait for the WAL flush: a crash may forget the last moment's counts,
    which a rate limit can afford, while every request through one key (one client address)
    would otherwise hold that key's row locked through a flush, one request after another."""
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        isolation_level="AUTOCOMMIT",
        connect_args={"server_settings": {"application_name": "gateway-ratelimit", "synchronous_commit": "off"}},
    )


# Built once, rows as parameters: one cached statement for every request (a multi-row
# .values() would be compiled per call).
_HIT = (
    insert(counters)
    .on_conflict_do_update(
        index_elements=[counters.c.key, counters.c.window_start], set_={"count": counters.c.count + 1}
    )
    .returning(counters.c.key, counters.c.count)
)


class CounterRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def hit(self, hits: list[tuple[str, int]]) -> dict[str, int]:
        """Count one request against each ``(key, window_start)``; the counts after it, by key."""
        rows = [{"key": key, "window_start": start, "count": 1} for key, start in sorted(hits)]
        async with self.engine.connect() as connection:
            result = await connection.execute(_HIT, rows)
            # row.count would be the tuple method: the column by position.
            return {row.key: int(row[1]) for row in result}

    async def prune(self, before: int) -> int:
        """Delete counters of windows that started before ``before`` (unix seconds); how many."""
        async with self.engine.connect() as connection:
            result = await connection.execute(counters.delete().where(counters.c.window_start < before))
            return result.rowcount
