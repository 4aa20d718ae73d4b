"""Has the work behind a round of intake been done?

After the full-speed round every message has its SLA clocks, but what follows them
(acknowledgements back to the intakes, auto-replies, read models, offers) may still be queued.
Queued work is either an outbox row not yet published or a record a consumer group has not
read: the round is behind us when every service's outbox is published and every consumer of
every service has caught up, and stays so for a moment (a consumer's applying writes an
outbox row the next one reads).

Host CPU cannot tell: an idle suite's pollers and fetches, with the agent console's load
that goes on through the round, may hold a small host above any fixed share on their own.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import asyncpg  # type: ignore[import-untyped]

from omnicase.devtools.bench.measure import CpuMeter
from omnicase.status import suite_status

_OUTBOXES = "SELECT table_schema FROM information_schema.tables WHERE table_name = 'outbox' ORDER BY 1"


@dataclass(frozen=True)
class Backlog:
    """What is still queued: unpublished outbox rows per schema, unread records per consumer group."""

    outbox: dict[str, int]
    lag: dict[str, int]

    @property
    def empty(self) -> bool:
        return not any(self.outbox.values()) and not any(self.lag.values())

    def describe(self) -> str:
        queued = [f"{schema} outbox {rows}" for schema, rows in self.outbox.items() if rows]
        queued += [f"{group} {records} behind" for group, records in self.lag.items() if records]
        return ", ".join(queued) or "nothing queued"


@dataclass(frozen=True)
class Drained:
    seconds: float
    backlog: Backlog
    host_cpu_pct: float | None  # of all cores, over the last look: what the suite costs once its work is done


async def backlog(connection: asyncpg.Connection, service_urls: dict[str, str]) -> Backlog:
    outbox: dict[str, int] = {}
    for record in await connection.fetch(_OUTBOXES):
        schema = record["table_schema"]
        outbox[schema] = await connection.fetchval(f'SELECT count(*) FROM "{schema}".outbox WHERE published_at IS NULL')
    lag: dict[str, int] = {}
    for status in await suite_status(service_urls):
        for group, consumer in status.consumers.items():
            lag[group] = lag.get(group, 0) + consumer.lag
    return Backlog(outbox, lag)


async def until_drained(
    dsn: str, service_urls: dict[str, str], *, hold: float = 2.0, within: float = 300.0, every: float = 0.5
) -> Drained:
    """Wait until nothing is queued for ``hold`` seconds, or ``within`` seconds have passed."""
    started = time.perf_counter()
    empty_since: float | None = None
    connection = await asyncpg.connect(dsn)
    try:
        while True:
            meter = CpuMeter()
            await asyncio.sleep(every)
            host = meter.usage().host_pct
            queued = await backlog(connection, service_urls)
            now = time.perf_counter()
            if not queued.empty:
                empty_since = None
            elif empty_since is None:
                empty_since = now
            if (empty_since is not None and now - empty_since >= hold) or now - started >= within:
                return Drained(now - started, queued, host)
    finally:
        await connection.close()
