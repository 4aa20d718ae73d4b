"""Message routes: a case's thread, replies and notes (JSON or multipart with files), attachment downloads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, FastAPI, Path, Query, Request, Response

from omnicase.case_core.articles import ArticleRefused, links_html, links_text
from omnicase.case_core.cases.access import visible_case
from omnicase.case_core.cases.service import MessageDraft
from omnicase.case_core.errors import AttachmentNotFound, CaseClosed, CaseNotFound, NoRecipient
from omnicase.case_core.identity import MessageWriter, PortalReader
from omnicase.case_core.messages.repository import AttachmentRow, MessageRow
from omnicase.case_core.messages.schemas import Attachment, Message, MessageCreate
from omnicase.case_core.wiring import Services, ServicesDep
from omnicase.kit.blobs import BlobsDep
from omnicase.kit.db import SessionDep
from omnicase.kit.errors import (
    BadRequest,
    FieldError,
    Forbidden,
    PayloadTooLarge,
    ServiceUnavailable,
    StateConflict,
    UnknownReference,
    UnsupportedMediaType,
    ValidationFailed,
    problem_responses,
)
from omnicase.kit.identity import AUTH_PROBLEMS
from omnicase.kit.pagination import LimitQuery, Page, cursor_query, decode_cursor, paginate
from omnicase.kit.peers import PeerUnavailable
from omnicase.kit.suggestions import SuggestedArticle
from omnicase.kit.uploads import (
    download_response,
    message_request_body,
    read_message_body,
    store_uploads,
)
from omnicase.kit.uploads import publish_attachment_limit as publish_limit

router = APIRouter(prefix="/api/v1/cases/{case_id}", tags=["messages"], responses=AUTH_PROBLEMS)

Sha256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="The attachment's sha256.")]


def to_message(row: MessageRow, attachments: list[AttachmentRow]) -> Message:
    return Message(
        id=row.id,
        case_id=row.case_id,
        direction=row.direction,
        public=row.public,
        author=row.author,
        author_role=row.author_role,
        channel=row.channel,
        text=row.text,
        html=row.html,
        email_message_id=row.email_message_id,
        conversation_id=row.conversation_id,
        created_at=row.created_at,
        attachments=[
            Attachment(
                sha256=item.sha256,
                filename=item.filename,
                content_type=item.content_type,
                size=item.size,
                content_id=item.content_id,
                inline=item.inline,
                url=f"/api/v1/cases/{row.case_id}/attachments/{item.sha256}",
            )
            for item in attachments
        ],
    )


@router.get(
    "/messages",
    operation_id="list_case_messages",
    summary="A case's messages",
    response_model=Page[Message],
    responses=problem_responses(BadRequest, CaseNotFound),
)
async def list_messages(
    case_id: uuid.UUID,
    session: SessionDep,
    services: ServicesDep,
    actor: PortalReader,
    public_only: Annotated[bool, Query(description="Leave internal notes out.")] = False,
    cursor: Annotated[str | None, cursor_query(datetime, uuid.UUID)] = None,
    limit: LimitQuery = 50,
) -> Page[Message]:
    """Oldest first, attachments included (customers see public messages only)."""
    await visible_case(session, services.cases, case_id, actor)
    public_only = public_only or actor.customer is not None
    after = decode_cursor(cursor, datetime, uuid.UUID)
    rows = await services.cases.messages_page(session, case_id, after=after, limit=limit + 1, public_only=public_only)
    attachments = await services.cases.attachments_of(session, [row.id for row in rows[:limit]])
    return paginate(
        Page[Message],
        rows,
        limit,
        key=lambda row: [row.created_at, row.id],
        item=lambda row: to_message(row, attachments[row.id]),
    )


_REQUEST_BODY = message_request_body(MessageCreate)


def publish_attachment_limit(app: FastAPI, most: int) -> None:
    """The files a message takes, at most ``CASE_CORE_MAX_ATTACHMENTS_PER_MESSAGE`` (kit.uploads)."""
    publish_limit(app, "/api/v1/cases/{case_id}/messages", most)


@router.post(
    "/messages",
    operation_id="add_case_message",
    summary="Reply or add an internal note",
    status_code=201,
    response_model=Message,
    openapi_extra={"requestBody": _REQUEST_BODY},
    responses=problem_responses(
        BadRequest,
        CaseNotFound,
        CaseClosed,
        NoRecipient,
        PayloadTooLarge,
        UnsupportedMediaType,
        ValidationFailed,
        UnknownReference,
        StateConflict,
        ServiceUnavailable,
    ),
)
async def add_message(
    case_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    services: ServicesDep,
    blobs: BlobsDep,
    actor: MessageWriter,
) -> Message:
    """A public reply is sent to the requester on the case's channel (threaded); a note stays internal."""
    settings = services.settings
    data, files = await read_message_body(
        request,
        MessageCreate,
        max_file_bytes=settings.max_attachment_bytes,
        max_files=settings.max_attachments_per_message,
    )
    if data.public and not actor.may("cases:write"):
        raise Forbidden("Only internal notes may be added with the cases:notes scope; replies need cases:write.")
    if not data.public and actor.customer is not None:
        raise Forbidden("Customers cannot write internal notes.")
    case = await visible_case(session, services.cases, case_id, actor)
    if data.articles and not data.public:
        reason = FieldError(field="body.articles", message="only replies carry articles", code="reply_only")
        raise ValidationFailed("An internal note carries no articles: customers never read it.", errors=[reason])
    carried = await _carried_articles(services, data.articles, case_id)
    # Stored before the message commits: a crash between leaves a file nothing names, never the reverse.
    refs = await store_uploads(blobs, files)
    # A customer writing from a portal is an inbound message (it reopens, it is not sent out).
    draft = MessageDraft(
        direction="inbound" if actor.customer is not None else "outbound",
        public=data.public,
        author=actor.name,
        author_role="customer" if actor.customer is not None else "agent" if actor.user_id is not None else "system",
        channel=case.channel,
        text=data.text + links_text(carried),
        html=data.html + links_html(carried) if data.html is not None and carried else data.html,
        attachments=refs,
    )
    _, message = await services.cases.add_message(session, case_id, draft, actor)
    attachments = await services.cases.attachments_of(session, [message.id])
    return to_message(message, attachments[message.id])


@router.get(
    "/attachments/{sha256}",
    operation_id="download_case_attachment",
    summary="Download an attachment",
    response_class=Response,
    responses={
        200: {"description": "The file, with its recorded Content-Type.", "content": {"application/octet-stream": {}}},
        **problem_responses(CaseNotFound, AttachmentNotFound),
    },
)
async def download(
    case_id: uuid.UUID, sha256: Sha256, session: SessionDep, services: ServicesDep, blobs: BlobsDep, actor: PortalReader
) -> Response:
    """Always as a download (never rendered inline by the browser: the file is the customer's, not ours)."""
    await visible_case(session, services.cases, case_id, actor)
    attachment = await services.cases.attachment_of_case(
        session, case_id, sha256, public_only=actor.customer is not None
    )
    if attachment is None:
        raise AttachmentNotFound(f"Case {case_id} has no attachment {sha256}.")
    content = await blobs.get(sha256)
    if content is None:
        raise AttachmentNotFound(f"The bytes of attachment {sha256} are no longer available.")
    return download_response(content, attachment.filename, attachment.content_type)


async def _carried_articles(
    services: Services, article_ids: list[uuid.UUID], case_id: uuid.UUID
) -> list[SuggestedArticle]:
    """The articles a reply carries, each linked to the case by knowledge (before the reply is written:
    a reply never names an article knowledge refused; a link without its reply is possible, harmless)."""
    carried: list[SuggestedArticle] = []
    for index, article_id in enumerate(article_ids):
        try:
            carried.append(await services.suggester.attach(article_id, case_id))
        except ArticleRefused as refused:
            code = "unknown" if refused.status == 404 else "not_published"
            field = [FieldError(field=f"body.articles.{index}", message=refused.detail, code=code)]
            if refused.status == 404:
                raise UnknownReference(f"Article {article_id} does not exist.", errors=field) from None
            detail = f"Article {article_id} is not published: customers could not open it."
            raise StateConflict(detail, errors=field) from None
        except PeerUnavailable as error:
            raise ServiceUnavailable(f"The articles could not be attached now: {error}") from error
    return carried
