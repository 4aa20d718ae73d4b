"""Metrics over the read model: the report's series, interval by interval, group by group."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.db import Database
from omnicase.reporting.metrics.filters import CaseFilter, Period
from omnicase.reporting.metrics.repository import ROLLED_UP, Aggregate, MetricsRepository, RollupKey, rollup_key
from omnicase.reporting.metrics.schemas import GroupBy, Metric, MetricsReport, Series

# Which query answers a metric, and which of its values.
SOURCES: dict[Metric, tuple[str, int]] = {
    Metric.CREATED: ("created", 0),
    Metric.SOLVED: ("changes", 0),
    Metric.REOPENED: ("changes", 1),
    Metric.FIRST_REPLY_MEDIAN: ("first_reply", 0),
    Metric.FIRST_REPLY_P90: ("first_reply", 1),
    Metric.FIRST_REPLY_BUSINESS_MEDIAN: ("first_reply", 2),
    Metric.FIRST_REPLY_BUSINESS_P90: ("first_reply", 3),
    Metric.RESOLUTION_MEDIAN: ("resolution", 0),
    Metric.RESOLUTION_P90: ("resolution", 1),
    Metric.RESOLUTION_BUSINESS_MEDIAN: ("resolution", 2),
    Metric.RESOLUTION_BUSINESS_P90: ("resolution", 3),
    Metric.SLA_ATTAINMENT: ("sla", 0),
    Metric.ONE_TOUCH_RATE: ("one_touch", 0),
    Metric.CSAT_GOOD_RATE: ("csat_good", 0),
    Metric.CSAT_RESPONSE_RATE: ("csat_response", 0),
    Metric.SWARMS_STARTED: ("swarms", 0),
    Metric.SWARM_MEMBERS_AVG: ("swarms", 1),
    Metric.SWARM_PARTICIPATION_RATE: ("swarms", 2),
    Metric.SWARM_TO_SOLVE_MEDIAN: ("swarm_to_solve", 0),
    Metric.RESOLUTION_RATE_SWARMED: ("created_by_swarm", 1),
    Metric.RESOLUTION_RATE_NOT_SWARMED: ("created_by_swarm", 2),
    Metric.SAME_DAY_RESOLUTION_RATE_SWARMED: ("created_by_swarm", 3),
    Metric.SAME_DAY_RESOLUTION_RATE_NOT_SWARMED: ("created_by_swarm", 4),
    Metric.DEFLECTIONS: ("deflections", 0),
    Metric.CALLS_OFFERED: ("calls", 0),
    Metric.CALLS_ANSWERED: ("calls", 1),
    Metric.CALLS_ABANDONED: ("calls", 2),
    Metric.CALLS_VOICEMAIL: ("calls", 3),
    Metric.CALL_WAIT_MEDIAN: ("calls", 4),
    Metric.CALL_WAIT_P90: ("calls", 5),
    Metric.CALL_TALK_MEDIAN: ("calls", 6),
    Metric.CALL_TALK_P90: ("calls", 7),
    Metric.CALLS_CALLBACK: ("calls", 8),
}
# Statements that answer several of the others from one scan: each of those is read from the
# combined one's values (from the offset) when two or more of them are wanted, one query fewer
# over the same index.
COMBINED: dict[str, tuple[str, int]] = {
    "created": ("created_by_swarm", 0),
    "resolution": ("solved", 0),
    "one_touch": ("solved", 4),
    "swarm_to_solve": ("solved", 5),
}
COUNTS = frozenset(
    {Metric.CREATED, Metric.SOLVED, Metric.REOPENED, Metric.BACKLOG, Metric.SWARMS_STARTED, Metric.DEFLECTIONS}
    | {Metric.CALLS_OFFERED, Metric.CALLS_ANSWERED, Metric.CALLS_ABANDONED, Metric.CALLS_VOICEMAIL}
    | {Metric.CALLS_CALLBACK}
)
# The backlog at each interval's end: the cases open just before the period (one GiST probe of
# the open spans), plus what each interval created and reopened, less what it solved.
# (query, value, sign): created and reopened add, solved takes away.
BACKLOG_CHANGES = [("created", 0, 1), ("changes", 1, 1), ("changes", 0, -1)]
# The deflection rate: the questions answered by an article, of the questions asked (the cases
# created, and the visitors answered before any case existed).
DEFLECTION_RATE_OF = ("deflections", "created")


@dataclass(frozen=True)
class ReportRunner:
    """Where a report's statements run at once: ``connections`` of ``database``'s pool, the report's
    own transaction and others reading its snapshot (so the numbers are of one instant)."""

    database: Database
    connections: int = 1


# The metrics only the facts answer of a statement the rollups answer otherwise (their intervals'
# local days are not hours).
SAME_DAY = frozenset({Metric.SAME_DAY_RESOLUTION_RATE_SWARMED, Metric.SAME_DAY_RESOLUTION_RATE_NOT_SWARMED})


class MetricsService:
    """Reports from the read model. ``rollups`` (the default): the counts and rates of a report whose
    intervals are whole UTC hours, grouped and filtered as a rollup row counts, come from the hourly
    rollups instead of the facts, with the same answer; False: always from the facts."""

    def __init__(self, session: AsyncSession, runner: ReportRunner | None = None, *, rollups: bool = True) -> None:
        self.metrics = MetricsRepository(session)
        self.runner = runner
        self.rollups = rollups

    async def report(
        self, metrics: list[Metric], group_by: GroupBy | None, period: Period, where: CaseFilter
    ) -> MetricsReport:
        index = {start: position for position, start in enumerate(period.starts)}
        wanted = {SOURCES[metric][0] for metric in metrics if metric in SOURCES}
        if Metric.BACKLOG in metrics:
            wanted |= {name for name, _, _ in BACKLOG_CHANGES} | {OPEN_AT}
        if Metric.DEFLECTION_RATE in metrics:
            wanted |= set(DEFLECTION_RATE_OF)
        combined = {
            name: COMBINED[name]
            for name in wanted
            if name in COMBINED and sum(_statement(other) == COMBINED[name][0] for other in wanted) > 1
        }
        statements = sorted((wanted - set(combined)) | {statement for statement, _ in combined.values()})
        key = rollup_key(group_by, where) if self.rollups and period.whole_hours else None
        rolled: set[str] = set()
        if key is not None:
            rolled = {name for name in statements if name in ROLLED_UP}
            if SAME_DAY & set(metrics):
                rolled.discard("created_by_swarm")
        queue = [name for name in statements if name not in rolled] + ([ROLLUPS] if rolled else [])
        found = await self._run(queue, group_by, period, where, rolled=(key, rolled) if key else None)
        for name, (statement, offset) in combined.items():
            found[name] = [dataclasses.replace(a, values=a.values[offset:]) for a in found[statement]]
        before: dict[str | None, int] = found.pop(OPEN_AT, {})

        groups: set[str | None] = set(before)
        for aggregates in found.values():
            groups |= {a.group for a in aggregates if a.bucket in index}
        series: list[Series] = []
        for metric in metrics:
            if metric is Metric.BACKLOG:
                series += self._backlog(found, before, index, sorted(groups, key=_order))
                continue
            if metric is Metric.DEFLECTION_RATE:
                series += self._deflection_rate(found, index, sorted(groups, key=_order))
                continue
            name, position = SOURCES[metric]
            by_key: dict[tuple[str | None, str | None], list[float | None]] = {}
            if metric in COUNTS:
                by_key = {(group, None): [0.0] * len(period.starts) for group in groups}
            for aggregate in found[name]:
                slot = index.get(aggregate.bucket)
                if slot is None:
                    continue
                values = by_key.setdefault((aggregate.group, aggregate.milestone), [None] * len(period.starts))
                values[slot] = aggregate.values[position]
            if metric is not Metric.SLA_ATTAINMENT:
                for group in groups:
                    by_key.setdefault((group, None), [None] * len(period.starts))
            for (group, milestone), values in sorted(
                by_key.items(), key=lambda item: (_order(item[0][0]), item[0][1] or "")
            ):
                series.append(Series(metric=metric, group=group, milestone=milestone, values=values))
        return MetricsReport(
            since=period.start,
            until=period.end,
            interval=period.interval,
            tz=period.tz,
            group_by=group_by,
            intervals=period.starts,
            series=series,
        )

    async def _run(
        self,
        statements: list[str],
        group_by: GroupBy | None,
        period: Period,
        where: CaseFilter,
        rolled: tuple[RollupKey, set[str]] | None = None,
    ) -> dict[str, Any]:
        """Each statement's answer, on up to the runner's connections at once, the costliest first;
        ``ROLLUPS``: those of ``rolled`` from the hourly rollups' rows it names."""
        queue = sorted(statements, key=lambda name: (-COST.get(name, 0), name))
        found: dict[str, Any] = {}

        async def work(metrics: MetricsRepository) -> None:
            while queue:
                name = queue.pop(0)
                if name == OPEN_AT:
                    found[name] = await metrics.open_at(group_by, period.start - timedelta(microseconds=1), where)
                elif name == ROLLUPS and rolled is not None:
                    found.update(await metrics.rolled_up(rolled[1], group_by, period, rolled[0]))
                else:
                    found[name] = await metrics.aggregates(name, group_by, period, where)

        helpers = min(self.runner.connections if self.runner else 1, len(queue)) - 1
        await self.metrics.connect()
        await self.metrics.tune()
        if helpers <= 0 or self.runner is None:
            await work(self.metrics)
            return found
        snapshot = await self.metrics.export_snapshot()
        database = self.runner.database
        connected = [False] * helpers

        async def helper(position: int) -> None:
            async with database.unit_of_work() as session:
                metrics = MetricsRepository(session)
                await metrics.connect()
                connected[position] = True
                await metrics.tune(snapshot=snapshot)
                await work(metrics)

        tasks = [asyncio.create_task(helper(position)) for position in range(helpers)]
        try:
            await work(self.metrics)
        finally:
            # A helper still waiting for a connection when the report's own has done the work is
            # not waited for: reports holding every connection of the pool, each waiting for a
            # helper's, would wait for each other.
            for position, task in enumerate(tasks):
                if not connected[position]:
                    task.cancel()
            answers = await asyncio.gather(*tasks, return_exceptions=True)
        for answer in answers:
            if isinstance(answer, BaseException) and not isinstance(answer, asyncio.CancelledError):
                raise answer
        return found

    @staticmethod
    def _deflection_rate(
        found: dict[str, list[Aggregate]], index: dict[datetime, int], groups: list[str | None]
    ) -> list[Series]:
        deflected = {group: [0.0] * len(index) for group in groups}
        asked = {group: [0.0] * len(index) for group in groups}
        for aggregate in found["deflections"]:
            if (slot := index.get(aggregate.bucket)) is not None:
                deflected[aggregate.group][slot] += aggregate.values[0] or 0.0
                asked[aggregate.group][slot] += aggregate.values[1] or 0.0
        for aggregate in found["created"]:
            if (slot := index.get(aggregate.bucket)) is not None:
                asked[aggregate.group][slot] += aggregate.values[0] or 0.0
        return [
            Series(
                metric=Metric.DEFLECTION_RATE,
                group=group,
                values=[100.0 * d / a if a else None for d, a in zip(deflected[group], asked[group], strict=True)],
            )
            for group in groups
        ]

    @staticmethod
    def _backlog(
        found: dict[str, list[Aggregate]],
        before: dict[str | None, int],
        index: dict[datetime, int],
        groups: list[str | None],
    ) -> list[Series]:
        change: dict[str | None, list[float]] = {group: [0.0] * len(index) for group in groups}
        for name, position, sign in BACKLOG_CHANGES:
            for aggregate in found[name]:
                slot = index.get(aggregate.bucket)
                if slot is not None:
                    change[aggregate.group][slot] += sign * (aggregate.values[position] or 0.0)
        series = []
        for group in groups:
            values: list[float | None] = []
            open_now = float(before.get(group, 0))
            for delta in change[group]:
                open_now += delta
                values.append(open_now)
            series.append(Series(metric=Metric.BACKLOG, group=group, values=values))
        return series


# The backlog's count of the cases open just before the period.
OPEN_AT = "open_at"
# What the hourly rollups answer (two statements of a few rows per hour and group).
ROLLUPS = "rollups"
# Which statements take longest (sorting durations for percentiles, then the larger scans): they
# start first, so the connections finish about together.
COST = {ROLLUPS: 1, "first_reply": 5, "solved": 5, "resolution": 4, "changes": 3, "created_by_swarm": 3, "created": 2}


def _statement(name: str) -> str:
    """The statement that answers ``name`` when combined."""
    return COMBINED.get(name, (name, 0))[0]


def _order(group: str | None) -> tuple[int, str]:
    return (0, "") if group is None else (1, group)
