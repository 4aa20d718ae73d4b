"""Every query of the metrics: aggregates over the read model per interval (in a time zone) and group.

Each statement's text depends only on the grouping (one of six), never on the values asked for
(period, zone and filters are parameters), so PostgreSQL and SQLAlchemy keep each one prepared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import TextClause, text

from omnicase.kit.repository import Repository
from omnicase.reporting.metrics.filters import CaseFilter
from omnicase.reporting.metrics.schemas import GroupBy, Interval

GROUP_EXPRESSIONS: dict[GroupBy | None, str] = {
    "channel": "c.channel",
    "brand": "c.brand",
    "group": "CAST(c.group_id AS text)",
    "assignee": "CAST(c.assignee_id AS text)",
    "priority": "c.priority",
    None: "CAST(NULL AS text)",
}

FILTERS = """
    (CAST(:f_channel AS text) IS NULL OR c.channel = :f_channel)
    AND (CAST(:f_brand AS text) IS NULL OR c.brand = :f_brand)
    AND (CAST(:f_group_id AS uuid) IS NULL OR c.group_id = :f_group_id)
    AND (CAST(:f_assignee_id AS uuid) IS NULL OR c.assignee_id = :f_assignee_id)
    AND (CAST(:f_priority AS text) IS NULL OR c.priority = :f_priority)
"""


def bucket(column: str) -> str:
    """The start (an instant) of the interval of ``tz`` holding ``column``."""
    return f"(date_trunc(CAST(:interval AS text), {column} AT TIME ZONE :tz) AT TIME ZONE :tz)"


@dataclass(frozen=True)
class Aggregate:
    """One aggregate of one interval and group (and SLA metric): ``values`` in the query's order."""

    bucket: datetime
    group: str | None
    values: tuple[float | None, ...]
    milestone: str | None = None


def _in_range(column: str) -> str:
    return f"{column} >= :lo AND {column} < :hi"


@cache
def _statements(group_by: GroupBy | None) -> dict[str, TextClause]:
    g = GROUP_EXPRESSIONS[group_by]
    cases_where = f"WHERE {{range}} AND {FILTERS}"

    def over_cases(at: str, aggregates: str, extra: str = "") -> TextClause:
        where = cases_where.format(range=_in_range(f"c.{at}")) + extra
        return text(
            f"SELECT {bucket('c.' + at)} AS bucket, {g} AS grp, {aggregates} "
            f"FROM reporting.cases c {where} GROUP BY 1, 2"
        )

    def over(table: str, alias: str, at: str, aggregates: str, extra: str = "", milestone: bool = False) -> TextClause:
        where = cases_where.format(range=_in_range(f"{alias}.{at}")) + extra
        pick = f", {alias}.milestone AS milestone" if milestone else ""
        group = "GROUP BY 1, 2, 3" if milestone else "GROUP BY 1, 2"
        return text(
            f"SELECT {bucket(alias + '.' + at)} AS bucket, {g} AS grp{pick}, {aggregates} "
            f"FROM reporting.{table} {alias} JOIN reporting.cases c ON c.case_id = {alias}.case_id {where} {group}"
        )

    percentiles = (
        "percentile_cont(0.5) WITHIN GROUP (ORDER BY c.{calendar}), "
        "percentile_cont(0.9) WITHIN GROUP (ORDER BY c.{calendar}), "
        "percentile_cont(0.5) WITHIN GROUP (ORDER BY c.{business}), "
        "percentile_cont(0.9) WITHIN GROUP (ORDER BY c.{business})"
    )
    return {
        "created": over_cases("created_at", "count(*)"),
        "solved": over("status_changes", "s", "at", "count(*)", " AND s.kind = 'solved'"),
        "reopened": over("status_changes", "s", "at", "count(*)", " AND s.kind = 'reopened'"),
        # Open at an instant: the open spans containing it (GiST), each case at most once.
        "open_at": text(
            f"SELECT {g} AS grp, count(*) FROM reporting.open_spans o JOIN reporting.cases c ON c.case_id = o.case_id "
            f"WHERE o.span @> CAST(:at AS timestamptz) AND {FILTERS} GROUP BY 1"
        ),
        "first_reply": over_cases(
            "first_reply_at",
            percentiles.format(calendar="first_reply_seconds", business="first_reply_business_seconds"),
        ),
        "resolution": over_cases(
            "solved_at", percentiles.format(calendar="resolution_seconds", business="resolution_business_seconds")
        ),
        "one_touch": over_cases(
            "solved_at", "100.0 * count(*) FILTER (WHERE c.public_replies = 1 AND c.reopen_count = 0) / count(*)"
        ),
        "sla": over(
            "sla_clocks", "k", "decided_at", "100.0 * count(*) FILTER (WHERE NOT k.breached) / count(*)", milestone=True
        ),
        "csat_good": over(
            "surveys",
            "v",
            "rated_at",
            "100.0 * count(*) FILTER (WHERE v.rating = 'good') / count(*)",
            " AND v.rating IS NOT NULL",
        ),
        "csat_response": over("surveys", "v", "sent_at", "100.0 * count(v.rating) / count(*)"),
    }


# For this transaction: plan each statement for its own values (a generic plan, which PostgreSQL
# picks after five runs of a prepared statement, cannot see that a period or a filter is selective
# and read every fact: 15 ms became 500 ms), and no JIT (compiling costs more than these queries).
_TUNE = text("SELECT set_config('plan_cache_mode', 'force_custom_plan', true), set_config('jit', 'off', true)")


class MetricsRepository(Repository):
    async def tune(self) -> None:
        """Plan this transaction's reports for their own values, without JIT (one round trip)."""
        await self.session.execute(_TUNE)

    async def aggregates(
        self,
        name: str,
        group_by: GroupBy | None,
        interval: Interval,
        tz: str,
        lo: datetime,
        hi: datetime,
        where: CaseFilter,
    ) -> list[Aggregate]:
        """The aggregate ``name`` of every interval and group with something in [lo, hi)."""
        statement = _statements(group_by)[name]
        rows = await self.session.execute(
            statement, {**filter_parameters(where), "interval": interval, "tz": tz, "lo": lo, "hi": hi}
        )
        milestone = name == "sla"
        return [
            Aggregate(
                bucket=row[0],
                group=row[1],
                milestone=row[2] if milestone else None,
                values=tuple(_number(value) for value in row[3 if milestone else 2 :]),
            )
            for row in rows
        ]

    async def open_at(self, group_by: GroupBy | None, at: datetime, where: CaseFilter) -> dict[str | None, int]:
        """Cases open at the instant ``at``, per group."""
        rows = await self.session.execute(_statements(group_by)["open_at"], {**filter_parameters(where), "at": at})
        return {row[0]: int(row[1]) for row in rows}


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def filter_parameters(where: CaseFilter) -> dict[str, Any]:
    return {
        "f_channel": where.channel,
        "f_brand": where.brand,
        "f_group_id": where.group_id,
        "f_assignee_id": where.assignee_id,
        "f_priority": where.priority,
    }
