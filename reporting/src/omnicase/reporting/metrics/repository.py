"""Every query of the metrics: aggregates over the read model per interval (in a time zone) and group.

Each statement's text depends only on the grouping (one of six), never on the values asked for
(period, zone and filters are parameters), so PostgreSQL and SQLAlchemy keep each one prepared.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import TextClause, text

from omnicase.kit.repository import Repository
from omnicase.reporting.metrics.filters import CaseFilter, Period
from omnicase.reporting.metrics.schemas import GroupBy

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
    """The position (from 1) of the interval holding ``column`` among the period's starts, instants
    the service computed in the report's time zone (a binary search per row: a third cheaper than
    truncating each time in the zone and converting it back)."""
    return f"width_bucket({column}, CAST(:starts AS timestamptz[]))"


@dataclass(frozen=True)
class Aggregate:
    """One aggregate of one interval and group (and SLA metric): ``values`` in the query's order."""

    bucket: datetime
    group: str | None
    values: tuple[float | None, ...]
    milestone: str | None = None


# The period's intervals, numbered from 1 (``bucket``), each [lo, hi): the starts the service
# computed in the report's time zone, each ending at the next (the last at the period's end).
INTERVALS = "unnest(CAST(:starts AS timestamptz[]), CAST(:ends AS timestamptz[])) WITH ORDINALITY AS i(lo, hi, bucket)"


def _in_range(column: str) -> str:
    return f"{column} >= :lo AND {column} < :hi"


ONE_TOUCH = "100.0 * count(*) FILTER (WHERE c.public_replies = 1 AND c.reopen_count = 0) / count(*)"
SWARM_TO_SOLVE = (
    "percentile_cont(0.5) WITHIN GROUP (ORDER BY GREATEST(0, extract(epoch FROM c.solved_at - c.swarmed_at)))"
)
# Of a subquery's cases (swarmed, done, same_day): the share done, and done the day they were
# created, of the swarmed and of the others.
_BY_SWARM = ", ".join(
    f"100.0 * count(*) FILTER (WHERE {swarmed} AND {done}) / NULLIF(count(*) FILTER (WHERE {swarmed}), 0)"
    for done in ("c.done", "c.same_day")
    for swarmed in ("c.swarmed", "NOT c.swarmed")
)


_INBOUND = "c.direction = 'inbound'"
_TALK = "extract(epoch FROM c.ended_at - c.answered_at)"
CALL_AGGREGATES = ", ".join(
    [
        f"count(*) FILTER (WHERE {_INBOUND})",
        f"count(*) FILTER (WHERE {_INBOUND} AND c.answered_at IS NOT NULL)",
        f"count(*) FILTER (WHERE {_INBOUND} AND c.ended_at IS NOT NULL AND c.answered_at IS NULL "
        "AND c.voicemail_at IS NULL AND c.callback_at IS NULL)",
        f"count(*) FILTER (WHERE {_INBOUND} AND c.voicemail_at IS NOT NULL)",
        *(
            f"(percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY {value}) FILTER (WHERE {where}))[{i}]"
            for value, where in (
                ("c.wait_seconds", f"{_INBOUND} AND c.answered_at IS NOT NULL"),
                (_TALK, "c.answered_at IS NOT NULL AND c.ended_at IS NOT NULL"),
            )
            for i in (1, 2)
        ),
        f"count(*) FILTER (WHERE {_INBOUND} AND c.callback_at IS NOT NULL)",
    ]
)


@cache
def _statements(group_by: GroupBy | None) -> dict[str, TextClause]:
    # Every fact row carries its case's dimensions, and every query here reads one table by a
    # covering index (migration 0003): its alias is ``c`` whatever the table, so the grouping and
    # the filters read the same columns everywhere. A fact whose case is not known yet (an SLA
    # event read before the case's creation) has no channel and counts nowhere until it is.
    g = GROUP_EXPRESSIONS[group_by]

    # Interval by interval (a lateral scan of each one's index range, grouped alone): sorting each
    # interval's rows by group is a small sort in cache, where sorting the period's rows by interval
    # and group was most of a percentile's cost (45 -> 18 ms for a month's first replies by channel).
    def over(table: str, at: str, aggregates: str, extra: str = "", milestone: bool = False) -> TextClause:
        known = "" if table == "cases" else " AND c.channel IS NOT NULL"
        pick = ", c.milestone AS milestone" if milestone else ""
        group = "GROUP BY 1, 2" if milestone else "GROUP BY 1"
        return text(
            f"SELECT i.bucket, p.* FROM {INTERVALS} CROSS JOIN LATERAL (SELECT {g} AS grp{pick}, {aggregates} "
            f"FROM reporting.{table} c WHERE c.{at} >= i.lo AND c.{at} < i.hi AND {FILTERS}{known}{extra} {group}) p"
        )

    # Both quantiles of a column from one sort (an array of fractions; PostgreSQL computes an
    # aggregate written twice once), calendar then business: a median and a p90 each.
    def percentiles(calendar: str, business: str) -> str:
        return ", ".join(
            f"(percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY c.{column}))[{i}]"
            for column in (calendar, business)
            for i in (1, 2)
        )

    return {
        "created": over("cases", "created_at", "count(*)"),
        # Solves and reopens from one scan of the period's status changes.
        "changes": over(
            "status_changes",
            "at",
            "count(*) FILTER (WHERE c.kind = 'solved'), count(*) FILTER (WHERE c.kind = 'reopened')",
        ),
        # Open at an instant: the open spans containing it (GiST, index-only), each case at most once.
        "open_at": text(
            f"SELECT {g} AS grp, count(*) FROM reporting.open_spans c "
            f"WHERE c.span @> CAST(:at AS timestamptz) AND {FILTERS} AND c.channel IS NOT NULL GROUP BY 1"
        ),
        "first_reply": over(
            "cases",
            "first_reply_at",
            percentiles("first_reply_seconds", "first_reply_business_seconds"),
        ),
        "resolution": over(
            "cases",
            "solved_at",
            percentiles("resolution_seconds", "resolution_business_seconds"),
        ),
        "one_touch": over(
            "cases",
            "solved_at",
            ONE_TOUCH,
        ),
        # Of the swarmed cases solved in the interval: from their first swarm's start to the solve.
        "swarm_to_solve": over("cases", "solved_at", SWARM_TO_SOLVE, " AND c.swarmed_at IS NOT NULL"),
        # The three above from one scan of the period's solves: the resolution times, the one-touch
        # rate and the time from a swarm to the solve.
        "solved": over(
            "cases",
            "solved_at",
            percentiles("resolution_seconds", "resolution_business_seconds")
            + f", {ONE_TOUCH}, {SWARM_TO_SOLVE} FILTER (WHERE c.swarmed_at IS NOT NULL)",
        ),
        "sla": over(
            "sla_clocks", "decided_at", "100.0 * count(*) FILTER (WHERE NOT c.breached) / count(*)", milestone=True
        ),
        "csat_good": over(
            "surveys",
            "rated_at",
            "100.0 * count(*) FILTER (WHERE c.rating = 'good') / count(*)",
            " AND c.rating IS NOT NULL",
        ),
        "csat_response": over("surveys", "sent_at", "100.0 * count(c.rating) / count(*)"),
        # Swarms started in the interval: how many, their members on average, and the share of
        # their members who posted in the thread.
        "swarms": over(
            "swarms",
            "started_at",
            "count(*), avg(c.members), 100.0 * sum(c.posters) / NULLIF(sum(c.members), 0)",
        ),
        # Questions an article answered in the interval, and of them those of a visitor without a case.
        "deflections": over("deflections", "deflected_at", "count(*), count(*) FILTER (WHERE c.case_id IS NULL)"),
        # Calls started in the interval (a call counts on the day it rang): of the inbound ones, offered,
        # answered by an agent, abandoned (ended, nobody answered, no voicemail nor callback asked), left a
        # voicemail, the wait of those answered; of every call answered (either way) and ended, the talk
        # time; and the inbound calls whose caller asked to be called back.
        "calls": over("calls", "started_at", CALL_AGGREGATES),
        # The cases created in the interval (as "created"), and of them, swarmed and not: the share
        # done now, and the share done now whose (latest) solve fell on the local day they were
        # created (the same of the period's local midnights, ``:days``; a solve after the period is
        # past the last). The subquery (kept whole by OFFSET 0) computes each row's facts once.
        "created_by_swarm": text(
            f"SELECT i.bucket, p.* FROM {INTERVALS} CROSS JOIN LATERAL (SELECT c.grp, count(*), {_BY_SWARM} FROM ("
            f"SELECT {g} AS grp, c.swarmed_at IS NOT NULL AS swarmed, "
            "c.solved_at IS NOT NULL AS done, width_bucket(c.solved_at, CAST(:days AS timestamptz[])) "
            "= width_bucket(c.created_at, CAST(:days AS timestamptz[])) AS same_day "
            f"FROM reporting.cases c WHERE c.created_at >= i.lo AND c.created_at < i.hi AND {FILTERS} OFFSET 0) c "
            "GROUP BY 1) p"
        ),
    }


# Which rollup rows a grouping reads (migration 0006): ``all`` without one.
ROLLUP_DIMENSIONS: dict[GroupBy | None, str] = {
    "channel": "channel",
    "brand": "brand",
    "group": "group",
    "assignee": "assignee",
    "priority": "priority",
    None: "all",
}


def _share(part: str, whole: str) -> str:
    # The rollups' sums as the bigints the facts' count(*) are, so every rate is the very numeric
    # division of the row scan (and the very float after it).
    return f"100.0 * CAST(sum(c.{part}) AS bigint) / NULLIF(CAST(sum(c.{whole}) AS bigint), 0)"


_CREATED = "CAST(sum(c.created) AS bigint)"
# What the hourly rollups answer of ``_statements``, with the same answer: name -> (whether the row
# scan has a row for the interval and group, its values). The same-day rates of
# ``created_by_swarm`` depend on the report's local days, which hours cannot tell: asked, they are
# the row scan's, so they stay null here.
ROLLED: dict[str, tuple[str, tuple[str, ...]]] = {
    "created": ("sum(c.created) > 0", (_CREATED,)),
    "changes": (
        "sum(c.solved) + sum(c.reopened) > 0",
        ("CAST(sum(c.solved) AS bigint)", "CAST(sum(c.reopened) AS bigint)"),
    ),
    "one_touch": ("sum(c.solves) > 0", (_share("one_touch", "solves"),)),
    "csat_good": ("sum(c.ratings) > 0", (_share("ratings_good", "ratings"),)),
    "csat_response": ("sum(c.surveys_sent) > 0", (_share("surveys_sent_rated", "surveys_sent"),)),
    # avg(members) is the numeric division of their sum by their count.
    "swarms": (
        "sum(c.swarms) > 0",
        (
            "CAST(sum(c.swarms) AS bigint)",
            "CAST(sum(c.swarm_members) AS numeric) / NULLIF(CAST(sum(c.swarms) AS numeric), 0)",
            _share("swarm_posters", "swarm_members"),
        ),
    ),
    "deflections": (
        "sum(c.deflections) > 0",
        ("CAST(sum(c.deflections) AS bigint)", "CAST(sum(c.deflections_visitor) AS bigint)"),
    ),
    "created_by_swarm": (
        "sum(c.created) > 0",
        (
            _CREATED,
            _share("created_swarmed_done", "created_swarmed"),
            "100.0 * CAST(sum(c.created_not_swarmed_done) AS bigint) "
            "/ NULLIF(CAST(sum(c.created) AS bigint) - CAST(sum(c.created_swarmed) AS bigint), 0)",
            "CAST(NULL AS numeric)",
            "CAST(NULL AS numeric)",
        ),
    ),
}
SLA = "sla"
ROLLED_UP = frozenset({*ROLLED, SLA})


@cache
def _rollup_statements(group_by: GroupBy | None) -> tuple[TextClause, TextClause]:
    """One read of the rollup rows of the period for everything in ``ROLLED`` (each name's "has a
    row" then its values), and one of the SLA rollups (as ``sla`` of ``_statements``). The rows of
    one grouping are read; ``:value`` keeps those of one group (a filter on the grouping's own
    dimension, or the one filter of a report not grouped)."""
    grp = "CAST(NULL AS text)" if group_by is None else "c.value"
    where = (
        f"WHERE c.dimension = :dimension AND {_in_range('c.hour')} "
        "AND (CAST(:value AS text) IS NULL OR c.value = :value)"
    )
    columns = ", ".join(f"{has}, {', '.join(values)}" for has, values in ROLLED.values())
    counts = text(
        f"SELECT {bucket('c.hour')} AS bucket, {grp} AS grp, {columns} FROM reporting.rollups c {where} GROUP BY 1, 2"
    )
    sla = text(
        f"SELECT {bucket('c.hour')} AS bucket, {grp} AS grp, c.milestone, {_share('met', 'decided')} "
        f"FROM reporting.sla_rollups c {where} GROUP BY 1, 2, 3 HAVING sum(c.decided) > 0"
    )
    return counts, sla


_FILTER_DIMENSIONS: dict[str, GroupBy] = {
    "f_channel": "channel",
    "f_brand": "brand",
    "f_group_id": "group",
    "f_assignee_id": "assignee",
    "f_priority": "priority",
}


@dataclass(frozen=True)
class RollupKey:
    """The rollup rows a report reads: those of one grouping, of one group's ``value`` if given."""

    dimension: str
    value: str | None = None


def rollup_key(group_by: GroupBy | None, where: CaseFilter) -> RollupKey | None:
    """The rollup rows answering a report grouped by ``group_by`` with the filters ``where``; None
    where they cannot (a row counts under one dimension at a time: two filters, or one on another
    dimension than the grouping's, need the facts)."""
    given = {_FILTER_DIMENSIONS[name]: str(v) for name, v in filter_parameters(where).items() if v is not None}
    if not given:
        return RollupKey(ROLLUP_DIMENSIONS[group_by])
    if len(given) > 1:
        return None
    ((dimension, value),) = given.items()
    return RollupKey(dimension, value) if group_by in (None, dimension) else None


# For this transaction: plan each statement for its own values (a generic plan, which PostgreSQL
# picks after five runs of a prepared statement, cannot see that a period or a filter is selective
# and read every fact: 15 ms became 500 ms), no JIT (compiling costs more than these queries), and
# room to sort a month's durations in memory for the percentiles (4 MB spilled them to disk).
_TUNE = text(
    "SELECT set_config('plan_cache_mode', 'force_custom_plan', true), set_config('jit', 'off', true), "
    "set_config('work_mem', '32MB', true)"
)


# What ``pg_export_snapshot`` names a snapshot (checked before it is written into SET TRANSACTION).
_SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+(-[0-9]+)?")


class MetricsRepository(Repository):
    async def connect(self) -> None:
        """Take this report's connection from the pool, for a repeatable-read transaction (one snapshot
        for every statement). The session's first statement: before it, it holds no connection."""
        await self.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})

    async def tune(self, *, snapshot: str | None = None) -> None:
        """Plan this transaction's reports for their own values, without JIT (one round trip); the
        transaction sees ``snapshot`` (another's, exported) if given."""
        if snapshot is not None:
            if not _SNAPSHOT_ID.fullmatch(snapshot):
                raise ValueError(f"not a snapshot id: {snapshot!r}")
            await self.session.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
        await self.session.execute(_TUNE)

    async def export_snapshot(self) -> str:
        """This transaction's snapshot, for other transactions to read the same (while it lasts)."""
        return str((await self.session.execute(text("SELECT pg_export_snapshot()"))).scalar_one())

    async def aggregates(
        self,
        name: str,
        group_by: GroupBy | None,
        period: Period,
        where: CaseFilter,
    ) -> list[Aggregate]:
        """The aggregate ``name`` of every interval of ``period`` and group with something in it."""
        starts = period.starts
        rows = await self.session.execute(
            _statements(group_by)[name],
            {
                **filter_parameters(where),
                "starts": starts,
                "ends": [*starts[1:], period.end],
                "days": period.days,
            },
        )
        return _aggregates(rows, starts, milestone=name == SLA)

    async def rolled_up(
        self, names: Collection[str], group_by: GroupBy | None, period: Period, key: RollupKey
    ) -> dict[str, list[Aggregate]]:
        """What ``aggregates`` answers for each of ``names`` (of ``ROLLED_UP``), from the hourly
        rollups' rows ``key`` (``rollup_key``), for a period of whole UTC hours: one statement for
        the counts and rates, one for the SLA attainment."""
        starts = period.starts
        parameters = {
            "starts": starts,
            "lo": starts[0],
            "hi": period.end,
            "dimension": key.dimension,
            "value": key.value,
        }
        counts, sla = _rollup_statements(group_by)
        found: dict[str, list[Aggregate]] = {name: [] for name in names}
        if SLA in found:
            found[SLA] = _aggregates(await self.session.execute(sla, parameters), starts, milestone=True)
        if found.keys() - {SLA}:
            for row in await self.session.execute(counts, parameters):
                position = 2
                for name, (_, values) in ROLLED.items():
                    if row[position] and name in found:
                        found[name].append(
                            Aggregate(
                                bucket=starts[row[0] - 1],
                                group=row[1],
                                values=tuple(_numbers(row[position + 1 : position + 1 + len(values)])),
                            )
                        )
                    position += 1 + len(values)
        return found

    async def open_at(self, group_by: GroupBy | None, at: datetime, where: CaseFilter) -> dict[str | None, int]:
        """Cases open at the instant ``at``, per group."""
        rows = await self.session.execute(_statements(group_by)["open_at"], {**filter_parameters(where), "at": at})
        return {row[0]: int(row[1]) for row in rows}


def _aggregates(rows: Iterable[Any], starts: list[datetime], *, milestone: bool) -> list[Aggregate]:
    return [
        Aggregate(
            bucket=starts[row[0] - 1],
            group=row[1],
            milestone=row[2] if milestone else None,
            values=tuple(_numbers(row[3 if milestone else 2 :])),
        )
        for row in rows
    ]


def _numbers(values: Sequence[Any]) -> list[float | None]:
    return [None if value is None else float(value) for value in values]


def filter_parameters(where: CaseFilter) -> dict[str, Any]:
    return {
        "f_channel": where.channel,
        "f_brand": where.brand,
        "f_group_id": where.group_id,
        "f_assignee_id": where.assignee_id,
        "f_priority": where.priority,
    }
