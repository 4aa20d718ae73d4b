"""GET /api/v1/reports/charts/{metric}.svg: a metric's series drawn on the server."""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Depends, Path, Query, Response

from omnicase.kit.db import SessionDep
from omnicase.kit.errors import NotFound, ValidationFailed, problem_responses
from omnicase.kit.identity import area_access
from omnicase.reporting.charts.render import render_svg
from omnicase.reporting.metrics.api import CaseFilterDep, IntervalQuery, SinceQuery, TimeZoneQuery, UntilQuery
from omnicase.reporting.metrics.filters import period
from omnicase.reporting.metrics.schemas import GroupBy, Metric
from omnicase.reporting.metrics.service import MetricsService
from omnicase.reporting.state import StateDep

router = APIRouter(prefix="/api/v1/reports", tags=["reports"], dependencies=[Depends(area_access("reports"))])


@router.get(
    "/charts/{metric}.svg",
    operation_id="get_report_chart",
    summary="A metric's series as an SVG line chart",
    description="The series `GET /api/v1/reports/metrics` answers for one metric, one line per group, "
    "drawn on the server (times in hours).",
    response_class=Response,
    responses={
        200: {"content": {"image/svg+xml": {"schema": {"type": "string", "format": "binary"}}}},
        # A metric the path does not name is no chart there: a 404 naming path.metric.
        **problem_responses(NotFound, ValidationFailed),
    },
)
async def get_report_chart(
    session: SessionDep,
    state: StateDep,
    where: CaseFilterDep,
    metric: Annotated[Metric, Path(description="The metric drawn.")],
    group_by: Annotated[GroupBy | None, Query(description="One line per value of this case field.")] = None,
    interval: IntervalQuery = "day",
    since: SinceQuery = None,
    until: UntilQuery = None,
    tz: TimeZoneQuery = "UTC",
) -> Response:
    report = await MetricsService(session, state.reports).report(
        [metric], group_by, period(since, until, interval, tz), where
    )
    svg = await anyio.to_thread.run_sync(render_svg, report, metric)
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "private, max-age=60"})
