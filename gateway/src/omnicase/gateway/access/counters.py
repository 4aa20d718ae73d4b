"""Every query of the rate limiter: one shared counter per (policy:subject, window).

The limiter runs before every request, so it does not open a unit of work: it holds
its own small engine in autocommit mode without pre-ping, and a hit is one statement,
one round trip (``INSERT … SELECT FROM unnest(…) ON CONFLICT DO UPDATE … RETURNING``),
atomic on its own. Requests that arrive while a hit is in flight wait for it and are
counted together by the next one: under load one statement counts many requests (each
still gets its own exact count), and alone a request waits for nothing. Rows are taken
in key order so two statements that count the same two keys never deadlock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from omnicase.gateway.models import rate_limit_counters as counters
from omnicase.kit.coalesce import Coalescer
from omnicase.kit.db import UnnestedRows

Slot = tuple[str, int]  # (policy:subject, window start in unix seconds)

# Hits counted by one statement at most; the rest wait for the next.
MAX_HITS_PER_STATEMENT = 500


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


_ROWS = UnnestedRows.of(counters, ["key", "window_start", "count"])
# Each slot once per statement (PostgreSQL updates a row at most once in one), its hits added.
_HIT = _ROWS.insert.on_conflict_do_update(
    index_elements=[counters.c.key, counters.c.window_start],
    set_={"count": counters.c.count + _ROWS.insert.excluded.count},
).returning(counters.c.key, counters.c.window_start, counters.c.count)


class CounterRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._hits = Coalescer(self._count, name="gateway-rate-limit-hits", max_batch=MAX_HITS_PER_STATEMENT)

    async def hit(self, hits: Sequence[Slot]) -> dict[str, int]:
        """Count one request against each ``(key, window_start)``; the counts after it, by key."""
        return await self._hits.submit(hits)

    async def _count(self, requests: list[Sequence[Slot]]) -> list[dict[str, int]]:
        """One statement for the hits of ``requests``; the requests of a slot get its counts in their order."""
        added = Counter(slot for hits in requests for slot in hits)
        rows = [{"key": key, "window_start": start, "count": count} for (key, start), count in sorted(added.items())]
        async with self.engine.connect() as connection:
            result = await connection.execute(_HIT, _ROWS.parameters(rows))
            # row.count would be the tuple method: the column by position.
            after = {(row.key, int(row.window_start)): int(row[2]) for row in result}
        # The first request of a slot in this batch counts as the one after the hits before it.
        next_count = {slot: after[slot] - added[slot] + 1 for slot in added}
        answers = []
        for hits in requests:
            counts = {}
            for slot in hits:
                counts[slot[0]] = next_count[slot]
                next_count[slot] += 1
            answers.append(counts)
        return answers

    async def close(self) -> None:
        """Stop counting (requests still waiting fall back as on a store error)."""
        await self._hits.close()

    async def prune(self, before: int) -> int:
        """Delete counters of windows that started before ``before`` (unix seconds); how many."""
        async with self.engine.connect() as connection:
            result = await connection.execute(counters.delete().where(counters.c.window_start < before))
            return result.rowcount
