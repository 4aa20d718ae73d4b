"""routing HTTP app and background work (built in the lifespan, never at import)."""

from fastapi import FastAPI

from omnicase.kit.app import ConsumerBinding, ServiceParts, create_service_app
from omnicase.kit.bus.consumer import ConsumerConfig
from omnicase.kit.settings import load_settings
from omnicase.kit.topics import Topic
from omnicase.routing.agents.api import router as agents_router
from omnicase.routing.groups.api import router as groups_router
from omnicase.routing.models import inbox, outbox
from omnicase.routing.rules.api import router as rules_router
from omnicase.routing.service import SPEC
from omnicase.routing.settings import RoutingSettings
from omnicase.routing.skills.api import router as skills_router
from omnicase.routing.state import RoutingState, routing_state
from omnicase.routing.voice.consumers import ACCEPTS as VOICE_ACCEPTS
from omnicase.routing.voice.consumers import CONSUMER_GROUP as VOICE_GROUP
from omnicase.routing.voice.consumers import voice_events_handler
from omnicase.routing.work.api import queues as queues_router
from omnicase.routing.work.api import routing_router
from omnicase.routing.work.consumers import ACCEPTS, CONSUMER_GROUP, case_events_handler
from omnicase.routing.work.timers import start_timer_worker, timer_worker_ready

TAGS = [
    {
        "name": "agents",
        "description": "Agents: skills, languages, queues, capacity, presence, voice status (calls) and load.",
    },
    {"name": "skills", "description": "Skills agents hold (level 1 to 10) and rules require."},
    {"name": "groups", "description": "Groups (queues): routing model, offer timeout and overflow."},
    {"name": "rules", "description": "Assignment rules, evaluated in order."},
    {"name": "queues", "description": "Each queue's waiting work and wait times."},
    {"name": "routing", "description": "Offers to agents and each case's routing decisions."},
]


def create_app(settings: RoutingSettings | None = None) -> FastAPI:
    settings = settings or load_settings(RoutingSettings)
    parts = ServiceParts[RoutingSettings, RoutingState](
        state=routing_state,
        routers=[agents_router, skills_router, groups_router, rules_router, queues_router, routing_router],
        outbox_table=outbox,
        inbox_table=inbox,
        consumers=[
            ConsumerBinding(
                ConsumerConfig(group=CONSUMER_GROUP, topics=[Topic.CASE_EVENTS], accepts=ACCEPTS),
                case_events_handler(settings),
            ),
            ConsumerBinding(
                ConsumerConfig(group=VOICE_GROUP, topics=[Topic.VOICE_EVENTS], accepts=VOICE_ACCEPTS),
                voice_events_handler(settings),
            ),
        ],
        background=[start_timer_worker],
        readiness={"timer_worker": timer_worker_ready},
        openapi_tags=TAGS,
    )
    return create_service_app(SPEC, settings, parts)
