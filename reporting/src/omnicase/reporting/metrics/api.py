"""Routes of /api/v1/reports: metrics as time series per group."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from omnicase.kit.db import SessionDep
from omnicase.kit.errors import ValidationFailed, problem_responses
from omnicase.kit.events import Channel, Priority
from omnicase.kit.identity import area_access
from omnicase.kit.inputs import IsoDateTime, TimeZoneName
from omnicase.reporting.metrics.filters import CaseFilter, period
from omnicase.reporting.metrics.schemas import METRICS_PATTERN, GroupBy, Interval, MetricsReport, parse_metrics
from omnicase.reporting.metrics.service import MetricsService
from omnicase.reporting.state import StateDep

router = APIRouter(prefix="/api/v1/reports", tags=["reports"], dependencies=[Depends(area_access("reports"))])


def case_filter(
    channel: Annotated[Channel | None, Query(description="Only cases of this channel.")] = None,
    brand: Annotated[str | None, Query(max_length=100, description="Only cases of this brand.")] = None,
    group_id: Annotated[uuid.UUID | None, Query(description="Only cases of this group.")] = None,
    assignee_id: Annotated[uuid.UUID | None, Query(description="Only cases assigned to this agent.")] = None,
    priority: Annotated[Priority | None, Query(description="Only cases of this priority.")] = None,
) -> CaseFilter:
    return CaseFilter(
        channel=channel.value if channel else None,
        brand=brand,
        group_id=group_id,
        assignee_id=assignee_id,
        priority=priority.value if priority else None,
    )


CaseFilterDep = Annotated[CaseFilter, Depends(case_filter)]
SinceQuery = Annotated[
    IsoDateTime | None,
    Query(description="Start (inclusive, widened to its interval's start); default 30 days before until."),
]
UntilQuery = Annotated[IsoDateTime | None, Query(description="End (exclusive); default now.")]
IntervalQuery = Annotated[
    Interval, Query(description="Intervals of the series: local days, ISO weeks (Monday) or months.")
]
TimeZoneQuery = Annotated[TimeZoneName, Query(description="IANA time zone the intervals are days, weeks or months of.")]


@router.get(
    "/metrics",
    operation_id="get_report_metrics",
    summary="Metrics as time series per interval and group",
    description=(
        "Each metric is a series per group (and, for `sla_attainment`, per SLA metric) with one value per interval: "
        "counts (`created`, `solved`, `reopened`, `backlog` open at each interval's end), times in seconds (median "
        "and 90th percentile of first reply and full resolution, calendar and business hours of the case's "
        "schedule), percentages (`sla_attainment`, `one_touch_rate`, `csat_good_rate`, `csat_response_rate`), "
        "swarm metrics, knowledge's `deflections` and `deflection_rate`. "
        "The definitions are in reporting's README."
    ),
    responses=problem_responses(ValidationFailed),
)
async def get_report_metrics(
    session: SessionDep,
    state: StateDep,
    where: CaseFilterDep,
    metrics: Annotated[
        str,
        Query(
            pattern=METRICS_PATTERN,
            description="Comma-separated metric names.",
            examples=["created,solved,backlog,first_reply_time_median"],
        ),
    ],
    group_by: Annotated[GroupBy | None, Query(description="One series per value of this case field.")] = None,
    interval: IntervalQuery = "day",
    since: SinceQuery = None,
    until: UntilQuery = None,
    tz: TimeZoneQuery = "UTC",
) -> MetricsReport:
    return await MetricsService(session, state.reports).report(
        parse_metrics(metrics), group_by, period(since, until, interval, tz), where
    )
