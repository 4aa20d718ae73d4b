"""case-core HTTP app and consumers (built in the lifespan, never at import)."""

from fastapi import FastAPI

from omnicase.case_core.articles import suggester_part
from omnicase.case_core.auto_responses.api import router as auto_responses_router
from omnicase.case_core.brands.api import router as brands_router
from omnicase.case_core.cases.api import router as cases_router
from omnicase.case_core.commands.consumer import ACCEPTS as COMMANDS_ACCEPTS
from omnicase.case_core.commands.consumer import CommandConsumer
from omnicase.case_core.contacts.api import router as contacts_router
from omnicase.case_core.csat.api import router as csat_router
from omnicase.case_core.csat.public import router as csat_public_router
from omnicase.case_core.csat.sweeper import surveys_part
from omnicase.case_core.custom_fields.api import router as custom_fields_router
from omnicase.case_core.dynamic_content.api import router as dynamic_content_router
from omnicase.case_core.held.api import router as held_router
from omnicase.case_core.held.sweeper import held_messages_part
from omnicase.case_core.intake.consumer import ACCEPTS as INTAKE_ACCEPTS
from omnicase.case_core.macros.api import router as macros_router
from omnicase.case_core.messages.api import publish_attachment_limit
from omnicase.case_core.messages.api import router as messages_router
from omnicase.case_core.models import inbox, outbox
from omnicase.case_core.notifications.api import router as notifications_router
from omnicase.case_core.notifications.dispatcher import notifications_part
from omnicase.case_core.organizations.api import router as organizations_router
from omnicase.case_core.service import SPEC
from omnicase.case_core.settings import CaseCoreSettings
from omnicase.case_core.triggers.api import router as triggers_router
from omnicase.case_core.views.api import router as views_router
from omnicase.case_core.webhooks.api import publish_notify_email_rule
from omnicase.case_core.webhooks.api import router as webhooks_router
from omnicase.case_core.webhooks.consumer import ACCEPTS as WEBHOOK_ACCEPTS
from omnicase.case_core.webhooks.consumer import WebhookFanOut
from omnicase.case_core.webhooks.dispatcher import dispatcher_part
from omnicase.case_core.wiring import build_services
from omnicase.kit.app import ConsumerBinding, ServiceParts, create_service_app
from omnicase.kit.bus.consumer import OFF_THE_CASE_PATH_FETCH_WAIT_MS, ConsumerConfig
from omnicase.kit.settings import load_settings
from omnicase.kit.topics import Topic

# Separate groups: a flood of inbound mail never delays routing's assignments.
INTAKE_GROUP = "case-core.intake"
COMMANDS_GROUP = "case-core.commands"
# Its own group: a slow fan-out never holds back commands or intake.
WEBHOOKS_GROUP = "case-core.webhooks"

TAGS = [
    {"name": "cases", "description": "Cases: list, search, read, create, change, bulk change, merge, history."},
    {"name": "messages", "description": "A case's thread: replies, internal notes, attachments."},
    {"name": "contacts", "description": "End users, found by email, phone or channel handle."},
    {"name": "organizations", "description": "Companies, matched to contacts by email domain."},
    {"name": "custom fields", "description": "Typed fields every case may carry."},
    {"name": "views", "description": "Saved case lists (filters, columns, sort) and their counts."},
    {"name": "macros", "description": "Named sets of actions an agent applies to a case in one call; previews."},
    {"name": "triggers", "description": "Business rules run on every case create and update, in order; dry runs."},
    {"name": "csat", "description": "Customer satisfaction surveys: settings (admins) and the ratings cases carry."},
    {"name": "webhooks", "description": "Outbound webhooks: subscriptions, signing secrets, delivery log (admins)."},
    {
        "name": "suspended messages",
        "description": "What the intakes held back (bounces, loops, suspended senders, spam): recover or delete.",
    },
]


def create_app(settings: CaseCoreSettings | None = None) -> FastAPI:
    settings = settings or load_settings(CaseCoreSettings)
    services = build_services(settings)
    commands = CommandConsumer(services.cases)
    fan_out = WebhookFanOut(services.webhooks)
    parts = ServiceParts(
        routers=[
            cases_router,
            messages_router,
            notifications_router,
            contacts_router,
            organizations_router,
            custom_fields_router,
            brands_router,
            dynamic_content_router,
            views_router,
            macros_router,
            auto_responses_router,  # before the triggers' /{trigger_id}
            triggers_router,
            csat_router,
            csat_public_router,
            webhooks_router,
            held_router,
        ],
        outbox_table=outbox,
        inbox_table=inbox,
        consumers=[
            ConsumerBinding(
                ConsumerConfig(
                    group=INTAKE_GROUP,
                    topics=[Topic.INTAKE_MESSAGES],
                    accepts=INTAKE_ACCEPTS,
                    max_records=500,
                    partitions_at_once=settings.consumer_partitions_at_once,
                ),
                services.intake.handle,
            ),
            ConsumerBinding(
                ConsumerConfig(
                    group=COMMANDS_GROUP,
                    topics=[Topic.CASE_COMMANDS],
                    accepts=COMMANDS_ACCEPTS,
                    partitions_at_once=settings.consumer_partitions_at_once,
                ),
                commands.handle,
            ),
            ConsumerBinding(
                ConsumerConfig(
                    group=WEBHOOKS_GROUP,
                    topics=[Topic.CASE_EVENTS, Topic.SLA_EVENTS],
                    accepts=WEBHOOK_ACCEPTS,
                    fetch_max_wait_ms=OFF_THE_CASE_PATH_FETCH_WAIT_MS,
                ),
                fan_out.handle,
                wants=fan_out.wants,
            ),
        ],
        background=[
            dispatcher_part(services.webhooks),
            notifications_part(services.notifications, services.directory),
            held_messages_part(services.held),
            surveys_part(services.csat),
            suggester_part(services.suggester),
        ],
        openapi_tags=TAGS,
    )
    app = create_service_app(SPEC, settings, parts)
    if settings.webhook_notify_email is None:
        publish_notify_email_rule(app)
    publish_attachment_limit(app, settings.max_attachments_per_message)
    app.state.services = services
    return app
