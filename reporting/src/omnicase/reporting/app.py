"""reporting HTTP app and background work (everything it holds is built in the lifespan, never at import)."""

from fastapi import FastAPI

from omnicase.kit.app import ConsumerBinding, ServiceParts, create_service_app
from omnicase.kit.bus.consumer import OFF_THE_CASE_PATH_FETCH_WAIT_MS, ConsumerConfig
from omnicase.kit.settings import load_settings
from omnicase.kit.topics import Topic
from omnicase.reporting.business_hours.schedules import ScheduleSource
from omnicase.reporting.calls.consumers import ACCEPTS as CALL_EVENTS
from omnicase.reporting.calls.consumers import call_handler
from omnicase.reporting.charts.api import router as charts_router
from omnicase.reporting.dashboard.api import router as dashboard_router
from omnicase.reporting.export.api import router as export_router
from omnicase.reporting.metrics.api import router as metrics_router
from omnicase.reporting.models import inbox
from omnicase.reporting.readmodel.consumers import ACCEPTS, read_model_handler
from omnicase.reporting.service import SPEC
from omnicase.reporting.settings import ReportingSettings
from omnicase.reporting.state import ReportingState, reporting_state, start_business_hours

TAGS = [
    {"name": "reports", "description": "Metrics of the desk per interval and group, the CSV export."},
]


def create_app(settings: ReportingSettings | None = None, *, schedules: ScheduleSource | None = None) -> FastAPI:
    """The app; ``schedules`` replaces the client of sla-engine's schedules (a test's in-process peer)."""
    settings = settings or load_settings(ReportingSettings)
    parts = ServiceParts[ReportingSettings, ReportingState](
        state=reporting_state(schedules),
        routers=[metrics_router, export_router, charts_router, dashboard_router],
        inbox_table=inbox,
        consumers=[
            ConsumerBinding(
                # Off the case path: a report is read seconds after the fact, not within them.
                ConsumerConfig(
                    group="reporting",
                    topics=[Topic.CASE_EVENTS, Topic.SLA_EVENTS, Topic.SWARM_EVENTS, Topic.KNOWLEDGE_EVENTS],
                    accepts=ACCEPTS,
                    fetch_max_wait_ms=OFF_THE_CASE_PATH_FETCH_WAIT_MS,
                ),
                read_model_handler(),
            ),
            # Calls in a group of their own: a call's metrics need nothing of the cases' fold, and
            # nobody waits on them within a second (the longer fetch wait keeps an idle group cheap).
            ConsumerBinding(
                ConsumerConfig(
                    group="reporting-calls",
                    topics=[Topic.VOICE_EVENTS],
                    accepts=CALL_EVENTS,
                    fetch_max_wait_ms=OFF_THE_CASE_PATH_FETCH_WAIT_MS,
                ),
                call_handler(),
            ),
        ],
        background=[start_business_hours],
        openapi_tags=TAGS,
    )
    return create_service_app(SPEC, settings, parts)
