"""The hourly rollups answer every report they can exactly as the facts do: in zones whose days are
whole UTC hours (with DST) and, falling back to the facts, in those whose are not (India's half hour,
Lord Howe's half-hour DST), grouped and filtered, after cases move to other groups, after a recount
(the rebuild's), and a deleted fact takes its counts away.

A year (2025) of the bench's seeded cases, with swarms on some, in a database of each test's own
(the seed writes facts for every case it finds).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from sqlalchemy import text

from omnicase.devtools.devstack.postgres import EmbeddedPostgres
from omnicase.kit.db import Database, create_engine
from omnicase.ops.migrations import upgrade
from omnicase.reporting.bench import seed
from omnicase.reporting.metrics.filters import CaseFilter, period
from omnicase.reporting.metrics.schemas import GroupBy, Interval, Metric, MetricsReport
from omnicase.reporting.metrics.service import MetricsService
from omnicase.reporting.readmodel.repository import Dimensions, ReadModelRepository
from omnicase.reporting.service import SPEC

pytestmark = pytest.mark.asyncio

CASES = 3000
CASES_OF = "reporting.cases WHERE true"
FACTS = ("status_changes", "open_spans", "sla_clocks", "surveys", "swarms", "deflections", "cases")
# Periods around the DST changes of 2025 (Europe and America in March, back in October and November).
PERIODS: list[tuple[Interval, datetime, datetime]] = [
    ("day", datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 4, 3, tzinfo=UTC)),
    ("week", datetime(2025, 10, 1, tzinfo=UTC), datetime(2025, 11, 20, tzinfo=UTC)),
    ("month", datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 6, 30, tzinfo=UTC)),
]
ZONES = ["UTC", "America/New_York", "Asia/Tokyo", "Asia/Kolkata", "Australia/Lord_Howe"]
GROUPINGS: list[tuple[GroupBy | None, CaseFilter]] = [
    (None, CaseFilter()),
    ("channel", CaseFilter()),
    ("brand", CaseFilter()),
    ("priority", CaseFilter()),
    ("group", CaseFilter()),
    ("channel", CaseFilter(channel="email")),
    (None, CaseFilter(brand="brand-1")),
    # Two dimensions: only the facts can tell.
    ("channel", CaseFilter(priority="high")),
]


@pytest_asyncio.fixture
async def database(embedded_postgres: EmbeddedPostgres) -> AsyncIterator[Database]:
    name = f"rollups_{uuid.uuid4().hex[:10]}"
    embedded_postgres.ensure_database(name)
    url = embedded_postgres.url(name)
    await asyncio.to_thread(upgrade, SPEC, url)
    database = Database(create_engine(url, pool_size=2))
    try:
        await seed(database, CASES)
        async with database.unit_of_work() as session:
            # Swarms on one case in fifty, and the cases' first swarm.
            await session.execute(
                text(
                    "INSERT INTO reporting.swarms (swarm_id, case_id, status, started_at, members, posters, "
                    "channel, brand, group_id, assignee_id, priority) "
                    "SELECT gen_random_uuid(), case_id, 'resolved', created_at + INTERVAL '2 hours', 1 + number % 4, "
                    f"number % 3, channel, brand, group_id, assignee_id, priority FROM {CASES_OF} AND number % 50 = 0"
                )
            )
            await session.execute(
                text(
                    "UPDATE reporting.cases c SET swarmed_at = s.started_at FROM reporting.swarms s "
                    "WHERE s.case_id = c.case_id"
                )
            )
        yield database
    finally:
        await database.engine.dispose()
        embedded_postgres.psql(f'DROP DATABASE "{name}"')


async def report(
    database: Database, group_by: GroupBy | None, where: CaseFilter, window: object, *, rollups: bool
) -> MetricsReport:
    async with database.unit_of_work() as session:
        return await MetricsService(session, rollups=rollups).report(list(Metric), group_by, window, where)  # type: ignore[arg-type]


async def assert_rollups_answer_as_the_facts(database: Database) -> None:
    for tz in ZONES:
        for interval, since, until in PERIODS:
            window = period(since, until, interval, tz)
            # Lord Howe's days are whole UTC hours in its summer (+11) only: its months from
            # January to June are not, its days in March and weeks in October are.
            if tz in ("UTC", "Asia/Kolkata"):
                assert window.whole_hours == (tz == "UTC")
            for group_by, where in GROUPINGS:
                rolled = await report(database, group_by, where, window, rollups=True)
                facts = await report(database, group_by, where, window, rollups=False)
                assert rolled == facts, (tz, interval, group_by, where)
                assert any(any(v for v in series.values) for series in facts.series), (tz, interval, group_by)


async def rollup_sums(database: Database) -> list[tuple[object, ...]]:
    async with database.unit_of_work() as session:
        rows = await session.execute(
            text(
                "SELECT dimension, value, sum(created), sum(solved), sum(reopened), sum(solves), sum(one_touch), "
                "sum(surveys_sent), sum(ratings_good), sum(swarms), sum(swarm_members), sum(deflections), "
                "sum(created_swarmed_done) FROM reporting.rollups GROUP BY 1, 2 ORDER BY 1, 2"
            )
        )
        # A group whose every case moved away keeps its row of zeros, which a recount does not write.
        return [tuple(row) for row in rows if any(row[2:])]


async def test_rollups_answer_every_report_as_the_facts_do(database: Database) -> None:
    await assert_rollups_answer_as_the_facts(database)


async def test_rollups_follow_cases_moved_to_other_groups_and_a_recount_gives_the_same(database: Database) -> None:
    moved = uuid.uuid4()
    async with database.unit_of_work() as session:
        rows = await session.execute(
            text(
                f"UPDATE reporting.cases SET group_id = :moved, brand = 'brand-9', channel = 'api' "
                f"WHERE case_id IN (SELECT case_id FROM {CASES_OF} AND number % 7 = 3) "
                "RETURNING case_id, channel, brand, group_id, assignee_id, priority"
            ),
            {"moved": moved},
        )
        changed = {
            row.case_id: Dimensions(row.channel, row.brand, row.group_id, row.assignee_id, row.priority) for row in rows
        }
        await ReadModelRepository(session).set_dimensions(changed)
    assert changed
    await assert_rollups_answer_as_the_facts(database)
    by_group = {(d, v): sums for d, v, *sums in await rollup_sums(database)}
    assert by_group[("group", str(moved))][0] == len(changed)
    kept = await rollup_sums(database)
    async with database.unit_of_work() as session:
        await session.execute(text("SELECT reporting.recount_rollups()"))
    assert await rollup_sums(database) == kept


async def test_deleted_facts_take_their_counts_away(database: Database) -> None:
    assert await rollup_sums(database)
    async with database.unit_of_work() as session:
        for table in FACTS:
            await session.execute(text(f"DELETE FROM reporting.{table}"))
    assert await rollup_sums(database) == []
