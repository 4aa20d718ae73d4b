"""intake-email's app: routes, the SMTP listener, the consumers, the sender and the republisher."""

from fastapi import FastAPI

from omnicase.intake_email.consumers import ACCEPTS, INTAKE_CHANNELS, make_handler
from omnicase.intake_email.delivery.republisher import start_republisher
from omnicase.intake_email.inbound.api import router as inbound_router
from omnicase.intake_email.inbound.imap import start_imap_poller
from omnicase.intake_email.inbound.smtp import smtp_listening, start_smtp_listener
from omnicase.intake_email.mailboxes.api import router as mailboxes_router
from omnicase.intake_email.mailboxes.cache import start_mailbox_cache
from omnicase.intake_email.mailboxes.secrets import start_secret_reseal
from omnicase.intake_email.models import inbox, outbox
from omnicase.intake_email.outbound.sender import start_outbound_sender
from omnicase.intake_email.outbound.templates import TemplateRenderer
from omnicase.intake_email.service import SPEC
from omnicase.intake_email.settings import IntakeEmailSettings
from omnicase.intake_email.state import IntakeEmailState, intake_email_state
from omnicase.kit.app import ConsumerBinding, ServiceParts, create_service_app
from omnicase.kit.blobs import open_blob_store
from omnicase.kit.bus.consumer import OFF_THE_CASE_PATH_FETCH_WAIT_MS, ConsumerConfig
from omnicase.kit.outbox import Outbox
from omnicase.kit.settings import load_settings
from omnicase.kit.topics import Topic


def create_app(settings: IntakeEmailSettings | None = None) -> FastAPI:
    settings = settings or load_settings(IntakeEmailSettings)
    renderer = TemplateRenderer(settings.templates_dir)
    # The consumer's handler stores and reads files, so the store is opened here, before the app.
    blobs = open_blob_store(settings, SPEC.name)
    handler = make_handler(settings, Outbox(outbox), renderer, SPEC.name, blobs)

    parts = ServiceParts[IntakeEmailSettings, IntakeEmailState](
        state=intake_email_state(renderer),
        routers=[inbound_router, mailboxes_router],
        blobs=blobs,
        outbox_table=outbox,
        inbox_table=inbox,
        consumers=[
            ConsumerBinding(
                ConsumerConfig(
                    group="intake-email",
                    topics=[Topic.CASE_EVENTS, Topic.OUTBOUND_MESSAGES],
                    accepts=ACCEPTS,
                    intake_channels=INTAKE_CHANNELS,
                    fetch_max_wait_ms=OFF_THE_CASE_PATH_FETCH_WAIT_MS,
                ),
                handler,
            )
        ]
        if settings.consume_events
        else [],
        background=[
            start_mailbox_cache,
            start_secret_reseal,
            start_smtp_listener,
            *([start_outbound_sender] if settings.send_mail else []),
            start_republisher,
            start_imap_poller,
        ],
        readiness={"smtp_listener": smtp_listening} if settings.smtp_enabled else {},
        openapi_tags=[
            {"name": "mailboxes", "description": "Support addresses and what their mail becomes."},
            {"name": "messages", "description": "Stored inbound messages and attachments (internal)."},
            {"name": "inbound-parse", "description": "Mail forwarded by providers as raw RFC 5322."},
        ],
    )
    return create_service_app(SPEC, settings, parts)
