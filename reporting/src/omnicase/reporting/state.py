"""What reporting holds while it runs, built in one place at start: sla-engine's schedules."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from omnicase.kit.app import Runtime, state_of
from omnicase.kit.periodic import periodic
from omnicase.reporting.business_hours.schedules import ScheduleSource
from omnicase.reporting.business_hours.service import BATCH, BusinessHoursService
from omnicase.reporting.metrics.service import ReportRunner
from omnicase.reporting.settings import ReportingSettings


@dataclass(frozen=True)
class ReportingState:
    schedules: ScheduleSource
    business_hours: BusinessHoursService
    # Where a report runs its statements at once: the service's database, on this many connections.
    reports: ReportRunner


ReportingRuntime = Runtime[ReportingSettings, ReportingState]


def reporting_state(
    schedules: ScheduleSource | None = None,
) -> Callable[[Runtime[ReportingSettings, Any]], Any]:
    """The state factory; ``schedules`` replaces the sla-engine client (a test's in-process peer)."""

    @asynccontextmanager
    async def build(runtime: Runtime[ReportingSettings, Any]) -> AsyncIterator[ReportingState]:
        settings = runtime.settings
        source = schedules or ScheduleSource(
            settings.sla_engine_url or settings.service_url("sla-engine"),
            settings.internal_secret,
            ttl_seconds=settings.schedule_ttl_seconds,
        )
        try:
            yield ReportingState(
                source,
                BusinessHoursService(runtime.database, source),
                ReportRunner(runtime.database, settings.report_connections),
            )
        finally:
            await source.aclose()

    return build


async def start_business_hours(runtime: ReportingRuntime) -> Callable[[], Awaitable[None]]:
    service = runtime.state.business_hours
    loop = periodic(
        "reporting:business-hours",
        runtime.settings.business_hours_seconds,
        service.count_once,
        busy=lambda claimed: claimed >= BATCH,
        jitter=0.1,
    )
    return loop.stop


def current_state(request: Request) -> ReportingState:
    return state_of(request, ReportingState)


StateDep = Annotated[ReportingState, Depends(current_state)]
