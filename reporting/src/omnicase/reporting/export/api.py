"""GET /api/v1/reports/export.csv: the cases of a period, one CSV row each, streamed."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from omnicase.kit.errors import ValidationFailed, problem_responses
from omnicase.kit.identity import area_access
from omnicase.kit.inputs import report_period
from omnicase.reporting.export.repository import COLUMNS, stream_cases
from omnicase.reporting.metrics.api import CaseFilterDep, SinceQuery, UntilQuery
from omnicase.reporting.state import ReportingRuntime

router = APIRouter(prefix="/api/v1/reports", tags=["reports"], dependencies=[Depends(area_access("reports"))])

CHUNK = 1000


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


async def _csv(chunks: AsyncIterator[Sequence[Any]]) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    async for rows in chunks:
        writer.writerows([_cell(value) for value in row] for row in rows)
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


@router.get(
    "/export.csv",
    operation_id="download_report_cases",
    summary="The cases created in a period, one CSV row each with every field the metrics use",
    description=(
        "RFC 4180 CSV (UTF-8, CRLF), a header row then one row per case created in [since, until) that the "
        "filters keep, oldest first, streamed from the database in chunks. Times are RFC 3339 UTC, durations "
        "seconds; `sla_met` and `sla_breached` list the case's decided SLA policy metrics."
    ),
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}, **problem_responses(ValidationFailed)},
)
async def download_report_cases(
    request: Request, where: CaseFilterDep, since: SinceQuery = None, until: UntilQuery = None
) -> StreamingResponse:
    runtime: ReportingRuntime = request.app.state.runtime
    lo, hi = report_period(since, until)
    chunks = stream_cases(runtime.database, lo, hi, where, CHUNK)
    return StreamingResponse(
        _csv(chunks),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="omnicase-cases.csv"'},
    )
