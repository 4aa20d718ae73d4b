"""Where a paced message's time goes between the services, read from their own outbox and inbox rows.

The stage rows say how long a message took to become a case, an assignment, SLA clocks; these
say which hop of that path the time went to, for the paced round's messages. Every service
stamps what it needs anyway: an outbox row's ``created_at`` is the start of the transaction
that wrote it, its ``published_at`` the start of the relay transaction that sent it, and an
inbox row's ``processed_at`` the start of the transaction that claimed the event. Rows are
tied by event id (and the case-path rows by case id), never by equal times, so a batch of
several messages in one transaction counts each message once.

What each hop holds:

- **written → relayed**: from the writer's transaction start to its relay's transaction
  start, so the writer's own transaction (its statements and commit) is in it, then the
  relay's wake-up.
- **relayed → consumed**: the relay's wait for the broker's acknowledgement, the broker, the
  consumer's fetch, and the consumer's wait for the batch before (or the event loop it shares).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import asyncpg  # type: ignore[import-untyped]

from omnicase.devtools.bench.measure import Measurement
from omnicase.kit.events import AssignCase, CaseCreated, MessageReceived

# The paced messages' intake events (both intakes), from their own outboxes to case-core's intake.
_INTAKE = """
SELECT o.channel, o.created_at, o.published_at, i.processed_at
FROM (
    SELECT 'email' AS channel, event_id, created_at, published_at FROM intake_email.outbox
    WHERE event_type = $2 AND created_at >= $1
    UNION ALL
    SELECT 'web', event_id, created_at, published_at FROM intake_web.outbox
    WHERE event_type = $2 AND created_at >= $1
) AS o
JOIN case_core.inbox AS i ON i.consumer = 'case-core.intake' AND i.event_id = o.event_id
"""

# From each paced case's case.created to its assignment applied by case-core and to sla-engine's claim.
_CASE_PATH = """
WITH created AS (
    SELECT DISTINCT ON (key) key, event_id, created_at, published_at FROM case_core.outbox
    WHERE event_type = $2 AND key = ANY($1::text[])
    ORDER BY key, id
), assign AS (
    SELECT DISTINCT ON (key) key, event_id, created_at, published_at FROM routing.outbox
    WHERE event_type = $3 AND key = ANY($1::text[])
    ORDER BY key, id
)
SELECT c.created_at, c.published_at,
       r.processed_at AS routed_at, a.created_at AS assign_at, a.published_at AS assign_sent_at,
       k.processed_at AS assigned_at, s.processed_at AS timed_at
FROM created AS c
LEFT JOIN routing.inbox AS r ON r.consumer = 'routing' AND r.event_id = c.event_id
LEFT JOIN assign AS a ON a.key = c.key
LEFT JOIN case_core.inbox AS k ON k.consumer = 'case-core.commands' AND k.event_id = a.event_id
LEFT JOIN sla_engine.inbox AS s ON s.consumer = 'sla-engine' AND s.event_id = c.event_id
"""


@dataclass(frozen=True)
class Hop:
    key: str
    label: str
    start: str
    end: str


_INTAKE_HOPS = (
    Hop("intake_relayed", "intake's transaction -> its relay", "created_at", "published_at"),
    Hop("intake_consumed", "intake's relay -> case-core's intake transaction", "published_at", "processed_at"),
)
_CASE_HOPS = (
    Hop("created_relayed", "case-core's transaction -> its relay (case.created)", "created_at", "published_at"),
    Hop("routing_consumed", "case-core's relay -> routing's transaction", "published_at", "routed_at"),
    Hop("assign_relayed", "routing's transaction -> its relay (case.assign)", "assign_at", "assign_sent_at"),
    Hop("assign_consumed", "routing's relay -> case-core's command transaction", "assign_sent_at", "assigned_at"),
    Hop("sla_consumed", "case-core's relay -> sla-engine's transaction", "published_at", "timed_at"),
)
LATENCY_FROM = (
    "transaction starts as the services stamped them (outbox created_at / published_at, inbox processed_at); "
    "a relay hop includes the writer's own transaction"
)


def _elapsed_ms(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds() * 1000


def _row(hop: Hop, rows: Iterable[asyncpg.Record], channel: str | None = None) -> Measurement:
    latencies = [ms for row in rows if (ms := _elapsed_ms(row[hop.start], row[hop.end])) is not None]
    return Measurement(
        f"suite_paced_hop_{channel}_{hop.key}" if channel else f"suite_paced_hop_{hop.key}",
        f"suite paced hop: {hop.label} ({channel})" if channel else f"suite paced hop: {hop.label}",
        len(latencies),
        None,
        latencies,
        LATENCY_FROM,
        compare_to_ceiling=False,
    )


async def paced_hops(dsn: str, since: datetime, case_ids: Iterable[uuid.UUID]) -> list[Measurement]:
    """One row per hop of the paced round: its intake events written from ``since``, its cases ``case_ids``."""
    connection = await asyncpg.connect(dsn)
    try:
        intake = await connection.fetch(_INTAKE, since, MessageReceived.event_type)
        cases = await connection.fetch(
            _CASE_PATH, [str(case_id) for case_id in case_ids], CaseCreated.event_type, AssignCase.event_type
        )
    finally:
        await connection.close()
    rows = [
        _row(hop, [row for row in intake if row["channel"] == channel], channel)
        for channel in ("email", "web")
        for hop in _INTAKE_HOPS
    ]
    return rows + [_row(hop, cases) for hop in _CASE_HOPS]
