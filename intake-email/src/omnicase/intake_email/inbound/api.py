"""Routes for stored inbound mail: attachments and sources (internal) and the inbound-parse webhook."""

from __future__ import annotations

import hashlib
import hmac
import logging
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Request, Response
from fastapi.responses import JSONResponse

from omnicase.intake_email.access import require_reader
from omnicase.intake_email.inbound.history import MailHistory, MessageNotFound
from omnicase.intake_email.inbound.schemas import (
    InboundAccepted,
    InboundMessage,
    OutboundMessage,
)
from omnicase.intake_email.inbound.service import Inbound, NoSenderAddress, count_received, receive
from omnicase.intake_email.mailboxes.schemas import Mailbox
from omnicase.intake_email.mailboxes.service import MailboxService
from omnicase.intake_email.metrics import EMAIL_REFUSED
from omnicase.intake_email.parsing.mime import parse_without_blocking
from omnicase.intake_email.state import IntakeEmailRuntime
from omnicase.kit.db import SessionDep
from omnicase.kit.errors import (
    FieldError,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    Unauthorized,
    ValidationFailed,
    problem_responses,
)
from omnicase.kit.identity import AUTH_PROBLEMS
from omnicase.kit.pagination import CursorQuery, InvalidCursor, LimitQuery, Page, decode_id_cursor

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Omnicase-Signature"

router = APIRouter()


class AttachmentNotFound(NotFound):
    pass


class MailboxUnknown(NotFound):
    slug = "mailbox-not-found"


class BadSignature(Unauthorized):
    slug = "bad-signature"


class MessageTooLarge(PayloadTooLarge):
    pass


class CannotStore(ServiceUnavailable):
    pass


class MessageRejected(ValidationFailed):
    slug = "message-rejected"


@router.get(
    "/api/v1/mailboxes/-/messages/{intake_id}",
    tags=["messages"],
    operation_id="get_inbound_email",
    dependencies=[Depends(require_reader)],
    summary="How an inbound message came and what became of it",
    responses=problem_responses(MessageNotFound) | AUTH_PROBLEMS,
)
async def get_inbound_message(session: SessionDep, intake_id: uuid.UUID) -> InboundMessage:
    return await MailHistory(session).message(intake_id)


@router.get(
    "/api/v1/mailboxes/-/messages",
    tags=["messages"],
    operation_id="list_inbound_emails_of_case",
    dependencies=[Depends(require_reader)],
    summary="The inbound mail a case was made of, with its routes and sources",
    responses=problem_responses(InvalidCursor) | AUTH_PROBLEMS,
)
async def list_inbound_messages(
    session: SessionDep,
    case_id: uuid.UUID,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[InboundMessage]:
    return await MailHistory(session).inbound_of_case(case_id, decode_id_cursor(cursor), limit)


@router.get(
    "/api/v1/mailboxes/-/outbound",
    tags=["messages"],
    operation_id="list_outbound_emails_of_case",
    dependencies=[Depends(require_reader)],
    summary="The mail sent for a case (replies, auto-responses) and what became of it",
    responses=problem_responses(InvalidCursor) | AUTH_PROBLEMS,
)
async def list_outbound_messages(
    session: SessionDep,
    case_id: uuid.UUID,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[OutboundMessage]:
    return await MailHistory(session).outbound_of_case(case_id, decode_id_cursor(cursor), limit)


@router.get(
    "/api/v1/mailboxes/-/messages/{intake_id}/source",
    tags=["messages"],
    operation_id="get_inbound_email_source",
    dependencies=[Depends(require_reader)],
    summary="The original RFC 5322 source, byte for byte",
    response_class=Response,
    responses={
        200: {"content": {"message/rfc822": {}}, "description": "Raw source."},
        **problem_responses(MessageNotFound) | AUTH_PROBLEMS,
    },
)
async def get_inbound_source(session: SessionDep, intake_id: uuid.UUID) -> Response:
    return Response(await MailHistory(session).source(intake_id), media_type="message/rfc822")


def signature_for(secret: str, body: bytes) -> str:
    """The header value a sender computes: ``sha256=<hex HMAC-SHA256 of the body>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise MessageTooLarge(f"The message is larger than the maximum of {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise MessageTooLarge(f"The message is larger than the maximum of {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


async def _find_mailbox(runtime: IntakeEmailRuntime, key: str) -> tuple[Mailbox | None, str | None]:
    try:
        async with runtime.database.unit_of_work() as db:
            return await MailboxService(db, runtime.state.mailbox_secrets, runtime.state.brands).find_with_secret(key)
    except Exception as error:
        logger.exception("mailbox lookup failed")
        raise CannotStore("Cannot look up the mailbox now; try again later.", headers={"Retry-After": "30"}) from error


@router.post(
    "/public/email/inbound/{mailbox}",
    tags=["inbound-parse"],
    operation_id="receive_inbound_email",
    summary="Receive a raw RFC 5322 message forwarded by a mail provider",
    status_code=201,
    response_model=InboundAccepted,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"message/rfc822": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
    responses={
        200: {"model": InboundAccepted, "description": "Already received earlier (same Message-ID): nothing new."},
        **problem_responses(BadSignature, MailboxUnknown, MessageTooLarge, MessageRejected, CannotStore),
    },
)
async def receive_inbound(
    request: Request,
    mailbox: Annotated[str, Path(max_length=320, description="The mailbox's id or address.")],
    signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER)] = None,
) -> JSONResponse:
    """Stored (and 2xx) only once committed; 503 means "send it again later".

    The sender signs the exact body with HMAC-SHA256 using the mailbox's webhook secret
    (or the service-wide one) and sends ``X-Omnicase-Signature: sha256=<hex>``.
    """
    runtime: IntakeEmailRuntime = request.app.state.runtime
    settings = runtime.settings
    found, own_secret = await _find_mailbox(runtime, mailbox)
    if found is None:
        raise MailboxUnknown(f"No mailbox {mailbox}.")
    secret = own_secret or settings.webhook_secret
    body = await _read_limited(request, settings.max_message_bytes)
    if secret is None:
        raise BadSignature("Inbound-parse is not enabled for this mailbox: no webhook secret is configured.")
    if signature is None or not hmac.compare_digest(signature.strip().encode(), signature_for(secret, body).encode()):
        raise BadSignature(f"The {SIGNATURE_HEADER} header does not match the body.")
    if not body.strip():
        raise MessageRejected(
            "The body is empty.", errors=[FieldError(field="body", message="a raw RFC 5322 message", code="empty")]
        )
    inbound = Inbound(raw=body, route="webhook", envelope_from=None, envelope_to=[found.address])
    parsed = await parse_without_blocking(body)
    try:
        [result] = await receive(
            runtime.database,
            inbound,
            parsed,
            [found],
            outbox=runtime.outbox,
            blobs=runtime.blobs,
            settings=settings,
            source=runtime.spec.name,
        )
    except NoSenderAddress as error:
        EMAIL_REFUSED.labels("webhook", "no_sender").inc()
        raise MessageRejected(
            f"Rejected: {error}.", errors=[FieldError(field="body", message=str(error), code="no_sender")]
        ) from error
    except Exception as error:
        EMAIL_REFUSED.labels("webhook", "cannot_store").inc()
        logger.exception("could not store an inbound message (webhook)")
        raise CannotStore(
            "Cannot store the message now; send it again later.", headers={"Retry-After": "30"}
        ) from error
    count_received("webhook", [result])
    accepted = InboundAccepted(
        intake_id=result.intake_id,
        mailbox=found.address,
        status=result.status,
        duplicate=result.duplicate,
        reason=result.reason,
    )
    return JSONResponse(accepted.model_dump(mode="json"), status_code=200 if result.duplicate else 201)
