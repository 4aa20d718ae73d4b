"""The export's one query: a period's cases with every field the metrics read, streamed from a
server-side cursor in chunks, on a connection of its own (the response outlives the request's session)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text

from omnicase.kit.db import Database
from omnicase.reporting.metrics.filters import CaseFilter
from omnicase.reporting.metrics.repository import FILTERS, filter_parameters

COLUMNS = (
    "case_id",
    "number",
    "status",
    "channel",
    "brand",
    "group_id",
    "assignee_id",
    "priority",
    "created_at",
    "first_reply_at",
    "solved_at",
    "reopen_count",
    "public_replies",
    "first_reply_seconds",
    "resolution_seconds",
    "schedule_id",
    "first_reply_business_seconds",
    "resolution_business_seconds",
    "one_touch",
    "sla_met",
    "sla_breached",
    "rating",
    "rating_reason",
    "rated_at",
)

# The SLA outcomes of a case as two lists of its policy metrics, met and breached (decided clocks).
_CASES = text(
    f"""
    SELECT c.case_id, c.number, c.status, c.channel, c.brand, c.group_id, c.assignee_id, c.priority,
           c.created_at, c.first_reply_at, c.solved_at, c.reopen_count, c.public_replies,
           c.first_reply_seconds, c.resolution_seconds, c.schedule_id,
           c.first_reply_business_seconds, c.resolution_business_seconds,
           (c.solved_at IS NOT NULL AND c.public_replies = 1 AND c.reopen_count = 0) AS one_touch,
           (SELECT string_agg(k.milestone, ' ' ORDER BY k.milestone, k.cycle) FROM reporting.sla_clocks k
             WHERE k.case_id = c.case_id AND k.decided_at IS NOT NULL AND NOT k.breached) AS sla_met,
           (SELECT string_agg(k.milestone, ' ' ORDER BY k.milestone, k.cycle) FROM reporting.sla_clocks k
             WHERE k.case_id = c.case_id AND k.breached) AS sla_breached,
           c.rating, c.rating_reason, c.rated_at
    FROM reporting.cases c
    WHERE c.created_at >= :lo AND c.created_at < :hi AND {FILTERS}
    ORDER BY c.created_at, c.case_id
    """
)


async def stream_cases(
    database: Database, lo: datetime, hi: datetime, where: CaseFilter, chunk: int
) -> AsyncIterator[Sequence[Any]]:
    """The cases created in [lo, hi), oldest first, ``chunk`` rows at a time from a server-side cursor."""
    async with database.engine.connect() as connection:
        result = await connection.stream(
            _CASES.execution_options(yield_per=chunk), {"lo": lo, "hi": hi, **filter_parameters(where)}
        )
        async for rows in result.partitions(chunk):
            yield rows
