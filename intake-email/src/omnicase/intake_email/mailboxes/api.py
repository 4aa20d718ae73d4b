"""Mailbox routes: /api/v1/mailboxes."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from omnicase.intake_email.access import channel_access
from omnicase.intake_email.mailboxes.schemas import Mailbox, MailboxCreate, MailboxUpdate
from omnicase.intake_email.mailboxes.service import MailboxAddressTaken, MailboxInUse, MailboxNotFound, MailboxService
from omnicase.intake_email.outbound.service import OutboundService
from omnicase.intake_email.state import IntakeEmailRuntime
from omnicase.kit.db import SessionDep
from omnicase.kit.errors import BadRequest, ValidationFailed, problem_responses
from omnicase.kit.identity import AUTH_PROBLEMS
from omnicase.kit.pagination import CursorQuery, LimitQuery, Page

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
    return MailboxService(session, runtime.state.mailbox_secrets)


# The request's session (FastAPI builds SessionDep once per request).
MailboxServiceDep = Annotated[MailboxService, Depends(_service)]


@router.post(
    "",
    status_code=201,
    operation_id="create_mailbox",
    summary="Add a support address",
    responses=problem_responses(MailboxAddressTaken, ValidationFailed),
)
async def create_mailbox(
    body: MailboxCreate, session: SessionDep, mailboxes: MailboxServiceDep, response: Response, request: Request
) -> Mailbox:
    """Mail to this address (SMTP, webhook) becomes cases with the mailbox's defaults."""
    _changing(request, session)
    mailbox = await mailboxes.create(body)
    response.headers["Location"] = f"/api/v1/mailboxes/{mailbox.id}"
    return mailbox


@router.get(
    "",
    operation_id="list_mailboxes",
    summary="List support addresses",
    responses=problem_responses(BadRequest, ValidationFailed),
)
async def list_mailboxes(
    mailboxes: MailboxServiceDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[Mailbox]:
    return await mailboxes.list(cursor=cursor, limit=limit)


@router.get(
    "/{mailbox_id}",
    operation_id="get_mailbox",
    summary="Read a support address",
    responses=problem_responses(MailboxNotFound, ValidationFailed),
)
async def get_mailbox(mailbox_id: uuid.UUID, mailboxes: MailboxServiceDep) -> Mailbox:
    return await mailboxes.get(mailbox_id)


@router.patch(
    "/{mailbox_id}",
    operation_id="update_mailbox",
    summary="Change a support address",
    responses=problem_responses(MailboxNotFound, MailboxAddressTaken, ValidationFailed),
)
async def update_mailbox(
    mailbox_id: uuid.UUID, body: MailboxUpdate, session: SessionDep, mailboxes: MailboxServiceDep, request: Request
) -> Mailbox:
    _changing(request, session)
    return await mailboxes.update(mailbox_id, body)


@router.delete(
    "/{mailbox_id}",
    status_code=204,
    operation_id="delete_mailbox",
    summary="Remove a support address that never received mail",
    responses=problem_responses(MailboxNotFound, MailboxInUse, ValidationFailed),
)
async def delete_mailbox(
    mailbox_id: uuid.UUID, session: SessionDep, mailboxes: MailboxServiceDep, request: Request
) -> Response:
    _changing(request, session)
    await mailboxes.delete(mailbox_id)
    return Response(status_code=204)


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
