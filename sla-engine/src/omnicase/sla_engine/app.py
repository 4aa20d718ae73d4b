"""sla-engine HTTP app and background work (built in the lifespan, never at import)."""

from fastapi import FastAPI

from omnicase.kit.app import ConsumerBinding, ServiceParts, create_service_app
from omnicase.kit.bus.consumer import ConsumerConfig
from omnicase.kit.outbox import Outbox
from omnicase.kit.settings import load_settings
from omnicase.kit.topics import Topic
from omnicase.sla_engine.automations.api import router as automations_router
from omnicase.sla_engine.background import SlaEngineState, scheduler_ready, sla_engine_state, start_scheduler
from omnicase.sla_engine.business_hours.api import router as schedules_router
from omnicase.sla_engine.models import inbox, outbox
from omnicase.sla_engine.policies.api import router as policies_router
from omnicase.sla_engine.service import SPEC
from omnicase.sla_engine.settings import SlaEngineSettings
from omnicase.sla_engine.tracking.api import router as sla_router
from omnicase.sla_engine.tracking.consumers import ACCEPTS, case_events_handler

TAGS = [
    {"name": "business-hours", "description": "Weekly working hours in a time zone, with holidays."},
    {"name": "sla-policies", "description": "Ordered SLA policies: conditions, targets per priority, escalations."},
    {"name": "sla", "description": "Per-case SLA state and attainment reports."},
    {"name": "automations", "description": "Time-based automations (hours since created, updated, pending, solved)."},
]


def create_app(settings: SlaEngineSettings | None = None) -> FastAPI:
    settings = settings or load_settings(SlaEngineSettings)
    parts = ServiceParts[SlaEngineSettings, SlaEngineState](
        state=sla_engine_state,
        routers=[schedules_router, policies_router, sla_router, automations_router],
        outbox_table=outbox,
        inbox_table=inbox,
        consumers=[
            ConsumerBinding(
                ConsumerConfig(group="sla-engine", topics=[Topic.CASE_EVENTS], accepts=ACCEPTS),
                case_events_handler(Outbox(outbox)),
            )
        ],
        background=[start_scheduler],
        readiness={"timer_worker": scheduler_ready},
        openapi_tags=TAGS,
    )
    return create_service_app(SPEC, settings, parts)
