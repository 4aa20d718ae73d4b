"""Mailbox routes: /api/v1/mailboxes."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from omnicase.intake_email.access import channel_access
from omnicase.intake_email.mailboxes.schemas import Mailbox, MailboxCreate, MailboxUpdate
from omnicase.intake_email.mailboxes.service import MailboxAddressTaken, MailboxInUse, MailboxNotFound, MailboxService
from omnicase.intake_email.outbound.service import OutboundService
from omnicase.intake_email.state import IntakeEmailRuntime
from omnicase.kit.db import SessionDep
from omnicase.kit.errors import BadRequest, ServiceUnavailable, UnknownReference, ValidationFailed, problem_responses
from omnicase.kit.identity import AUTH_PROBLEMS
from omnicase.kit.routes import Doc, resource_routes

# Every mailbox route is for admins: a 401 without a gateway identity, 403 for others.
router = APIRouter(
    prefix="/api/v1/mailboxes",
    tags=["mailboxes"],
    dependencies=[Depends(channel_access)],
    responses=AUTH_PROBLEMS,
)


def _changing(request: Request, session: SessionDep) -> None:
    """SMTP reads mailboxes from the process's cache: this change empties it on commit."""
    runtime: IntakeEmailRuntime = request.app.state.runtime
    runtime.state.mailboxes.invalidate_on_commit(session)


def _service(request: Request, session: SessionDep) -> MailboxService:
    runtime: IntakeEmailRuntime = request.app.state.runtime
    return MailboxService(session, runtime.state.mailbox_secrets, runtime.state.brands)


# The request's session (FastAPI builds SessionDep once per request).
MailboxServiceDep = Annotated[MailboxService, Depends(_service)]


# A change empties the SMTP listener's cache of mailboxes on commit.
CHANGES = Depends(_changing)

resource_routes(
    router,
    _service,
    location=True,
    key="mailbox_id",
    item=Mailbox,
    body=MailboxCreate,
    changes=MailboxUpdate,
    create=Doc(
        "create_mailbox",
        "Add a support address",
        (MailboxAddressTaken, ValidationFailed, UnknownReference, ServiceUnavailable),
        description="Mail to this address (SMTP, webhook) becomes cases with the mailbox's defaults.",
        dependencies=[CHANGES],
    ),
    list_=Doc("list_mailboxes", "List support addresses", (BadRequest, ValidationFailed)),
    get=Doc("get_mailbox", "Read a support address", (MailboxNotFound, ValidationFailed)),
    update=Doc(
        "update_mailbox",
        "Change a support address",
        (MailboxNotFound, MailboxAddressTaken, ValidationFailed, UnknownReference, ServiceUnavailable),
        dependencies=[CHANGES],
    ),
    delete=Doc(
        "delete_mailbox",
        "Remove a support address that never received mail",
        (MailboxNotFound, MailboxInUse, ValidationFailed),
        dependencies=[CHANGES],
    ),
)


@router.post(
    "/{mailbox_id}/verification",
    status_code=202,
    operation_id="verify_mailbox",
    summary="Send a verification message through the configured route",
    responses=problem_responses(MailboxNotFound, ValidationFailed),
)
async def verify_mailbox(
    mailbox_id: uuid.UUID, session: SessionDep, mailboxes: MailboxServiceDep, request: Request
) -> Mailbox:
    """Sends a test message to the address through the outbound relay. When it comes back in
    (forwarded by the customer's mail server to the SMTP listener, the inbound-parse webhook
    or the polled IMAP mailbox), the mailbox's ``verification`` shows when and by which route.
    Asking again replaces the outstanding test message."""
    runtime: IntakeEmailRuntime = request.app.state.runtime
    _changing(request, session)
    settings, renderer = runtime.settings, runtime.state.renderer
    outbound = OutboundService(
        session,
        settings=settings,
        outbox=runtime.outbox,
        blobs=runtime.blobs,
        renderer=renderer,
        source=runtime.spec.name,
    )
    return await mailboxes.start_verification(mailbox_id, outbound)
