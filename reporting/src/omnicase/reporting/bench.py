"""Reporting's bench: metrics over a read model of many cases, and the consumer's fold rate.

``python -m omnicase.reporting.bench [--cases 1000000] [--requests 50]`` starts its own durable
PostgreSQL in a temporary directory, migrates this service's schema, seeds ``--cases`` cases spread
over 2025 (seven channels, most solved, some reopened, SLA clocks and surveys for a share), and
reports, as JSON:

- ``reporting_month_by_channel``: a month of daily metrics grouped by channel, the dashboard's
  counts (created, solved, reopened, backlog), ``--requests`` times (p50, p99 ms);
- ``reporting_month_all_metrics``: the same month with every metric (times, rates, SLA, CSAT);
- ``reporting_month_all_metrics_facts``: the same from the facts alone (the hourly rollups unused),
  after checking that both answer every report of the month (and a quarter by week) alike in
  several zones and groupings (:func:`rollups_agree`);
- ``reporting_fold``: case events folded into the read model by the consumer's own code (created,
  a public reply, solved: three events per case) in batches of 100, events per second.

:func:`bench` is the same for ``omnicase bench`` on its own servers (entry point
``omnicase.benches``; ``BENCH_REPORTING_CASES``, ``BENCH_REPORTING_REQUESTS``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from omnicase.devtools.bench.measure import CpuMeter, CpuUsage, Measurement
from omnicase.devtools.bench.services import BenchTarget
from omnicase.kit.bus.batch import Received
from omnicase.kit.db import Database, create_engine
from omnicase.kit.events import (
    CaseCreated,
    CaseMessageAdded,
    CaseSnapshot,
    CaseStatus,
    CaseUpdated,
    Channel,
    EventData,
    FieldChange,
    Priority,
)
from omnicase.reporting.metrics.filters import CaseFilter, period
from omnicase.reporting.metrics.schemas import GroupBy, Metric
from omnicase.reporting.metrics.service import MetricsService, ReportRunner
from omnicase.reporting.models import DIMENSIONS
from omnicase.reporting.readmodel.service import ReadModelService
from omnicase.reporting.service import SPEC
from omnicase.reporting.settings import ReportingSettings

D = ", ".join(DIMENSIONS)  # a fact carries its case's dimensions
COUNTS = [Metric.CREATED, Metric.SOLVED, Metric.REOPENED, Metric.BACKLOG]
MONTH = (datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC))

# A year of cases, one every 365 days / n; 95% solved (a tenth of those solved a third of the way,
# reopened two thirds of the way and solved again), the rest still open; replies within hours, a
# first-reply SLA clock on 60% (8% breached), a survey for 30% of the solved, a deflection for 5%.
_SEED = [
    text(
        """
        INSERT INTO reporting.cases (case_id, number, version, status, channel, brand, group_id, priority,
            created_at, first_reply_at, solved_at, reopen_count, public_replies, first_reply_seconds,
            resolution_seconds, first_reply_business_seconds, resolution_business_seconds, rating, rated_at)
        SELECT id, n, 3, CASE WHEN solved THEN 'solved' ELSE 'open' END,
               (ARRAY['email','web','sms','messaging','social','api','voice'])[1 + n % 7],
               'brand-' || (n % 5), NULL, (ARRAY['low','normal','high','urgent'])[1 + n % 4],
               created, created + reply, CASE WHEN solved THEN created + resolve END,
               CASE WHEN solved AND n % 10 = 0 THEN 1 ELSE 0 END, 1 + n % 3,
               extract(epoch FROM reply), CASE WHEN solved THEN extract(epoch FROM resolve) END,
               extract(epoch FROM reply) / 3, CASE WHEN solved THEN extract(epoch FROM resolve) / 3 END,
               CASE WHEN solved AND n % 10 < 3 THEN (CASE WHEN n % 7 = 0 THEN 'bad' ELSE 'good' END) END,
               CASE WHEN solved AND n % 10 < 3 THEN created + resolve + INTERVAL '1 day' END
        FROM (
            SELECT n, gen_random_uuid() AS id, n % 100 < 95 AS solved,
                   TIMESTAMPTZ '2025-01-01 00:00:00+00'
                       + (CAST(n AS double precision) / :cases) * INTERVAL '365 days' AS created,
                   ((CAST(n AS bigint) * 7919) % 36000) * INTERVAL '1 second' + INTERVAL '5 minutes' AS reply,
                   ((CAST(n AS bigint) * 104729) % 400000) * INTERVAL '1 second' + INTERVAL '1 hour' AS resolve
            FROM generate_series(1, :cases) AS n
        ) seeded
        """
    ),
    text(
        f"""
        INSERT INTO reporting.status_changes (case_id, version, kind, at, {D})
        SELECT case_id, 2, 'solved',
               CASE WHEN reopen_count > 0 THEN created_at + (solved_at - created_at) / 3 ELSE solved_at END, {D}
        FROM reporting.cases WHERE solved_at IS NOT NULL
        UNION ALL
        SELECT case_id, 3, 'reopened', created_at + (solved_at - created_at) * 2 / 3, {D}
        FROM reporting.cases WHERE reopen_count > 0
        UNION ALL
        SELECT case_id, 4, 'solved', solved_at, {D} FROM reporting.cases WHERE reopen_count > 0
        """
    ),
    text(
        f"""
        INSERT INTO reporting.open_spans (case_id, opened_at, span, {D})
        SELECT case_id, created_at,
               tstzrange(created_at, CASE WHEN reopen_count > 0 THEN created_at + (solved_at - created_at) / 3
                                          ELSE solved_at END), {D}
        FROM reporting.cases
        UNION ALL
        SELECT case_id, created_at + (solved_at - created_at) * 2 / 3,
               tstzrange(created_at + (solved_at - created_at) * 2 / 3, solved_at), {D}
        FROM reporting.cases WHERE reopen_count > 0
        """
    ),
    text(
        f"""
        INSERT INTO reporting.sla_clocks (case_id, milestone, cycle, policy_id, state, breached, due_at, achieved_at,
                                          decided_at, {D})
        SELECT case_id, 'first_reply', 1, NULL, 'achieved', number % 100 < 8, created_at + INTERVAL '4 hours',
               first_reply_at, first_reply_at, {D}
        FROM reporting.cases WHERE number % 10 < 6
        """
    ),
    text(
        f"""
        INSERT INTO reporting.surveys (survey_id, case_id, sent_at, rating, rated_at, {D})
        SELECT gen_random_uuid(), case_id, solved_at, rating, rated_at, {D}
        FROM reporting.cases WHERE solved_at IS NOT NULL AND number % 100 < 30
        """
    ),
    # A knowledge article answered one case in twenty half an hour after it was asked.
    text(
        f"""
        INSERT INTO reporting.deflections (suggestion_id, article_id, case_id, locale, deflected_at, {D})
        SELECT gen_random_uuid(), gen_random_uuid(), case_id, 'en', created_at + INTERVAL '30 minutes', {D}
        FROM reporting.cases WHERE number % 20 = 1
        """
    ),
]
# What autovacuum does to a year of settled rows: statistics, and the visibility map that lets the
# metrics' covering indexes answer without reading the table (outside a transaction).
_VACUUM = text(
    "VACUUM ANALYZE reporting.cases, reporting.status_changes, reporting.open_spans, reporting.sla_clocks, "
    "reporting.surveys, reporting.deflections, reporting.rollups, reporting.sla_rollups"
)


async def seed(database: Database, cases: int) -> float:
    started = time.perf_counter()
    async with database.engine.begin() as connection:
        for statement in _SEED:
            await connection.execute(statement, {"cases": cases} if ":cases" in str(statement) else {})
    async with database.engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(_VACUUM)
    return time.perf_counter() - started


# A report's statements run on as many connections at once as the service's default.
CONNECTIONS: int = ReportingSettings.model_fields["report_connections"].default


async def month_of_metrics(
    database: Database, metrics: list[Metric], requests: int, connections: int = CONNECTIONS, *, rollups: bool = True
) -> list[float]:
    """Milliseconds per report of June 2025, daily, grouped by channel (``rollups``: False, from the
    facts alone)."""
    window = period(MONTH[0], MONTH[1], "day", "UTC")
    latencies = []
    for _ in range(requests):
        started = time.perf_counter()
        async with database.unit_of_work() as session:
            report = await MetricsService(session, ReportRunner(database, connections), rollups=rollups).report(
                metrics, "channel", window, CaseFilter()
            )
        latencies.append((time.perf_counter() - started) * 1000)
        assert report.series, "the seeded month has data"
    return latencies


# Zones whose days are whole UTC hours (with and without DST) and one whose are not (the facts).
AGREEMENT_ZONES = ("UTC", "America/New_York", "Asia/Tokyo", "Asia/Kolkata")


async def rollups_agree(database: Database) -> int:
    """Check that the hourly rollups answer as the facts: every metric of the bench's month, daily,
    in each of ``AGREEMENT_ZONES``, not grouped and grouped by each dimension, and a quarter by week;
    returns the reports compared (an AssertionError names the first that differs)."""
    compared = 0
    for tz in AGREEMENT_ZONES:
        windows = [period(MONTH[0], MONTH[1], "day", tz), period(MONTH[0], MONTH[0] + timedelta(days=91), "week", tz)]
        for window in windows:
            groupings: tuple[GroupBy | None, ...] = (None, "channel", "brand", "group", "assignee", "priority")
            for group_by in groupings:
                reports = []
                for rollups in (True, False):
                    async with database.unit_of_work() as session:
                        service = MetricsService(session, ReportRunner(database, CONNECTIONS), rollups=rollups)
                        reports.append(await service.report(list(Metric), group_by, window, CaseFilter()))
                assert reports[0] == reports[1], f"rollups and facts differ: {tz}, {window.interval}, {group_by}"
                compared += 1
    return compared


def _events(cases: int) -> list[Received[EventData]]:
    events: list[Received[EventData]] = []
    start = datetime(2025, 12, 1, tzinfo=UTC)
    for n in range(cases):
        case_id = uuid.uuid4()
        at = start + timedelta(seconds=n)
        snapshot = CaseSnapshot(
            case_id=case_id, number=n, subject="s", status=CaseStatus.NEW, priority=Priority.NORMAL,
            channel=Channel.WEB, brand="bench", created_at=at, updated_at=at, version=1,
        )  # fmt: skip
        replied = snapshot.model_copy(
            update={"status": CaseStatus.OPEN, "version": 2, "updated_at": at + timedelta(minutes=5)}
        )
        solved = replied.model_copy(
            update={"status": CaseStatus.SOLVED, "version": 3, "updated_at": at + timedelta(hours=1)}
        )
        for data in (
            CaseCreated(case=snapshot),
            CaseMessageAdded(
                case_id=case_id, message_id=uuid.uuid4(), direction="outbound", public=True, author="user:x",
                author_role="agent", channel=Channel.WEB, case=replied,
            ),
            CaseUpdated(
                case_id=case_id, version=3, changes={"status": FieldChange(old="open", new="solved")}, actor="user:x",
                case=solved,
            ),
        ):  # fmt: skip
            envelope = data.envelope(source="bench", subject=str(case_id))
            events.append(Received(envelope.model_copy(update={"time": data_time(data, at)}), data))
    return events


def data_time(data: EventData, created: datetime) -> datetime:
    return created + (timedelta(minutes=5) if isinstance(data, CaseMessageAdded) else timedelta(0))


async def fold_rate(database: Database, cases: int, batch: int = 100) -> tuple[int, float, CpuUsage]:
    """Events folded per second by the consumer's code, ``batch`` events a transaction, and the CPU
    this process spent on it (the service's share; PostgreSQL's is its own process)."""
    events = _events(cases)
    service = ReadModelService()
    meter = CpuMeter()
    started = time.perf_counter()
    for first in range(0, len(events), batch):
        async with database.unit_of_work() as session:
            await service.apply(session, events[first : first + batch])
    return len(events), time.perf_counter() - started, meter.usage()


def _row(key: str, name: str, latencies: list[float]) -> Measurement:
    return Measurement(
        key,
        name,
        len(latencies),
        sum(latencies) / 1000,
        latencies,
        "request to report (the service's queries and shaping, no HTTP)",
        compare_to_ceiling=False,
    )


async def measure(database_url: str, cases: int, requests: int) -> list[Measurement]:
    database = Database(create_engine(database_url, pool_size=2, application_name="reporting-bench"))
    try:
        await seed(database, cases)
        await rollups_agree(database)
        counts = await month_of_metrics(database, COUNTS, requests)
        every = await month_of_metrics(database, list(Metric), requests)
        facts = await month_of_metrics(database, list(Metric), requests, rollups=False)
        folded, seconds, cpu = await fold_rate(database, min(cases, 5000))
    finally:
        await database.engine.dispose()
    return [
        _row("reporting_month_by_channel", f"reporting: a month of daily counts by channel, {cases:,} cases", counts),
        _row("reporting_month_all_metrics", f"reporting: a month of every metric by channel, {cases:,} cases", every),
        _row(
            "reporting_month_all_metrics_facts",
            f"reporting: the same from the facts alone (no rollups), {cases:,} cases",
            facts,
        ),
        Measurement(
            "reporting_fold",
            "reporting: case events folded into the read model (100 a batch)",
            folded,
            seconds,
            cpu=cpu,
        ),
    ]


async def bench(target: BenchTarget) -> list[Measurement]:
    """reporting's rows in ``omnicase bench`` (entry point ``omnicase.benches``)."""
    cases = target.size("BENCH_REPORTING_CASES", 1_000_000)
    requests = target.size("BENCH_REPORTING_REQUESTS", 50)
    return await measure(target.database_url, cases, requests)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args(argv)

    from omnicase.devtools.devstack.postgres import EmbeddedPostgres
    from omnicase.devtools.devstack.processes import free_port
    from omnicase.ops.migrations import upgrade

    root = Path(tempfile.mkdtemp(prefix="omnicase-reporting-bench-"))
    postgres = EmbeddedPostgres(root / "data", port=free_port(), log_file=root / "postgres.log", durable=True)
    try:
        postgres.start()
        postgres.ensure_database("omnicase_bench")
        url = postgres.url("omnicase_bench")
        upgrade(SPEC, url)
        rows = asyncio.run(measure(url, args.cases, args.requests))
    finally:
        postgres.stop()
        shutil.rmtree(root, ignore_errors=True)
    out = {row.key: {"count": row.count, "rate_per_s": row.rate, **row.percentiles()} for row in rows}
    for row in rows:
        if row.cpu is not None and row.seconds:
            # The bench process's CPU per event: the consumer's code and driver, not PostgreSQL.
            out[row.key]["cpu_ms_per_event"] = row.cpu.process_pct / 100 * row.seconds * 1000 / row.count
    sys.stdout.write(json.dumps({**out, "cases": args.cases, "at": datetime.now(UTC).isoformat()}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
