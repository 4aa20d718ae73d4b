"""collaboration HTTP app (everything it holds is built in the lifespan, never at import)."""

from fastapi import FastAPI

from omnicase.collaboration.experts.api import router as experts_router
from omnicase.collaboration.models import inbox, outbox
from omnicase.collaboration.service import SPEC
from omnicase.collaboration.settings import CollaborationSettings
from omnicase.collaboration.slack.api import public_router as slack_events_router
from omnicase.collaboration.slack.api import router as slack_router
from omnicase.collaboration.state import CollaborationState, collaboration_state, start_slack_worker
from omnicase.collaboration.swarms.api import MESSAGES_PATH
from omnicase.collaboration.swarms.api import case_router as case_swarms_router
from omnicase.collaboration.swarms.api import router as swarms_router
from omnicase.kit.app import ServiceParts, create_service_app
from omnicase.kit.settings import load_settings
from omnicase.kit.uploads import publish_attachment_limit

TAGS = [
    {"name": "swarms", "description": "Swarms of experts around a case: members, an internal thread, an outcome."},
    {"name": "slack", "description": "The Slack workspace swarm threads open in, and Slack's Events API."},
]


def create_app(settings: CollaborationSettings | None = None) -> FastAPI:
    settings = settings or load_settings(CollaborationSettings)
    parts = ServiceParts[CollaborationSettings, CollaborationState](
        state=collaboration_state,
        routers=[case_swarms_router, experts_router, swarms_router, slack_router, slack_events_router],
        outbox_table=outbox,
        inbox_table=inbox,
        background=[start_slack_worker],
        openapi_tags=TAGS,
    )
    app = create_service_app(SPEC, settings, parts)
    publish_attachment_limit(app, MESSAGES_PATH, settings.max_attachments_per_message)
    return app
