"""intake-web HTTP app and background work (built in the lifespan, never at import)."""

from fastapi import FastAPI

from omnicase.intake_web import background
from omnicase.intake_web.channels.api import router as channels_router
from omnicase.intake_web.channels.webhooks import router as webhooks_router
from omnicase.intake_web.consumers import ACCEPTS, GROUP, INTAKE_CHANNELS, IntakeWebConsumer
from omnicase.intake_web.forms.api import router as forms_router
from omnicase.intake_web.forms.public import router as public_forms_router
from omnicase.intake_web.models import inbox, outbox
from omnicase.intake_web.service import SPEC
from omnicase.intake_web.settings import IntakeWebSettings
from omnicase.intake_web.state import IntakeWebState, intake_web_state
from omnicase.intake_web.voice.api import case_calls_router
from omnicase.intake_web.voice.api import router as voice_router
from omnicase.intake_web.voice.webhooks import router as voice_webhooks_router
from omnicase.intake_web.widget.chat import router as chat_router
from omnicase.intake_web.widget.hub import ConversationHub
from omnicase.intake_web.widget.public import router as widget_router
from omnicase.kit.app import ConsumerBinding, ServiceParts, create_service_app
from omnicase.kit.bus.consumer import ConsumerConfig
from omnicase.kit.settings import load_settings
from omnicase.kit.topics import Topic

# How long the broker may hold this consumer's fetch. A chat widget's reply is waited on live (its p99 from
# commit to the visitor's screen is to stay under 250 ms), and Tansu answers a fetch within half its wait, data
# or not: the suite's 500 ms for consumers off the case path cost a reply up to 250 ms before it was even read
# (the bench's reply p50 151 ms, p99 293 ms). 100 ms costs at most 50 ms, for a fetch every 50 ms when quiet.
REPLY_FETCH_WAIT_MS = 100

TAGS = [
    {"name": "forms", "description": "Web-to-Case form definitions, the embeddable snippet, submissions."},
    {"name": "public forms", "description": "Unauthenticated: hosted form page and submissions from any site."},
    {"name": "channels", "description": "SMS, WhatsApp, Messenger and integrator channels: inbound and replies."},
    {"name": "public channels", "description": "Signed provider and integrator webhooks."},
    {
        "name": "public messaging",
        "description": "Unauthenticated: the chat widget's script, conversations, messages and live events.",
    },
    {"name": "chat", "description": "The desk's side of a case's chat: typing, read receipts, where both sides stand."},
    {"name": "voice", "description": "Voice channels: a telephony provider's numbers, greeting and voicemail; calls."},
    {"name": "public voice", "description": "Signed call webhooks of a telephony provider, answered with TwiML."},
]


def create_app(settings: IntakeWebSettings | None = None) -> FastAPI:
    settings = settings or load_settings(IntakeWebSettings)
    hub = ConversationHub()
    consumer = IntakeWebConsumer(hub)
    parts = ServiceParts[IntakeWebSettings, IntakeWebState](
        state=intake_web_state(hub),
        routers=[
            forms_router,
            public_forms_router,
            channels_router,
            webhooks_router,
            widget_router,
            chat_router,
            voice_router,
            case_calls_router,
            voice_webhooks_router,
        ],
        outbox_table=outbox,
        inbox_table=inbox,
        consumers=[
            ConsumerBinding(
                ConsumerConfig(
                    group=GROUP,
                    topics=[Topic.CASE_EVENTS, Topic.OUTBOUND_MESSAGES],
                    accepts=ACCEPTS,
                    intake_channels=INTAKE_CHANNELS,
                    fetch_max_wait_ms=REPLY_FETCH_WAIT_MS,
                ),
                consumer.handle,
            )
        ],
        background=[background.start],
        openapi_tags=TAGS,
    )
    return create_service_app(SPEC, settings, parts)
