"""Routes of /api/v1/cases/{case_id}/swarms and /api/v1/swarms."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status

from omnicase.collaboration.deps import SettingsDep, SwarmsDep
from omnicase.collaboration.swarms.schemas import MemberRef, MessageCreate, Swarm, SwarmCreate, SwarmEnd, SwarmMessage
from omnicase.collaboration.swarms.service import (
    CaseNotFound,
    CaseSolved,
    MessagePromoted,
    NotSwarmMember,
    NotSwarmOwner,
    SwarmAttachmentNotFound,
    SwarmEnded,
    SwarmMessageNotFound,
    SwarmNotFound,
)
from omnicase.kit.blobs import BlobsDep
from omnicase.kit.db import SessionDep
from omnicase.kit.errors import (
    BadRequest,
    PayloadTooLarge,
    ServiceUnavailable,
    UnsupportedMediaType,
    ValidationFailed,
    problem_responses,
)
from omnicase.kit.identity import CurrentIdentity, area_access
from omnicase.kit.pagination import CursorQuery, InvalidCursor, LimitQuery, Page
from omnicase.kit.uploads import download_response, message_request_body, read_message_body, store_uploads

ACCESS = [Depends(area_access("collaboration"))]
case_router = APIRouter(prefix="/api/v1/cases/{case_id}/swarms", tags=["swarms"], dependencies=ACCESS)
router = APIRouter(prefix="/api/v1/swarms", tags=["swarms"], dependencies=ACCESS)


@case_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    operation_id="start_swarm",
    summary="Start a swarm of experts on a case (its assignee or a lead)",
    responses=problem_responses(CaseNotFound, NotSwarmOwner, CaseSolved, ServiceUnavailable),
)
async def start_swarm(
    case_id: uuid.UUID, payload: SwarmCreate, swarms: SwarmsDep, session: SessionDep, identity: CurrentIdentity
) -> Swarm:
    return await swarms.start(session, case_id, payload, identity)


@case_router.get(
    "",
    operation_id="list_case_swarms",
    summary="The swarms of a case, oldest first",
    responses=problem_responses(CaseNotFound, InvalidCursor, ServiceUnavailable),
)
async def list_case_swarms(
    case_id: uuid.UUID, swarms: SwarmsDep, session: SessionDep, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> Page[Swarm]:
    return await swarms.page_of_case(session, case_id, cursor, limit)


@router.get("/{swarm_id}", operation_id="get_swarm", summary="Get a swarm", responses=problem_responses(SwarmNotFound))
async def get_swarm(swarm_id: uuid.UUID, swarms: SwarmsDep, session: SessionDep) -> Swarm:
    return await swarms.get(session, swarm_id)


@router.patch(
    "/{swarm_id}",
    operation_id="end_swarm",
    summary="Resolve or abandon a swarm with its outcome (members' read access ends)",
    responses=problem_responses(SwarmNotFound, NotSwarmOwner, SwarmEnded),
)
async def end_swarm(
    swarm_id: uuid.UUID, payload: SwarmEnd, swarms: SwarmsDep, session: SessionDep, identity: CurrentIdentity
) -> Swarm:
    return await swarms.end(session, swarm_id, payload, identity)


@router.post(
    "/{swarm_id}/members",
    status_code=status.HTTP_201_CREATED,
    operation_id="add_swarm_member",
    summary="Pull an agent or a group into a swarm (they may read its case while it is open)",
    responses=problem_responses(SwarmNotFound, NotSwarmMember, SwarmEnded, ServiceUnavailable),
)
async def add_swarm_member(
    swarm_id: uuid.UUID, payload: MemberRef, swarms: SwarmsDep, session: SessionDep, identity: CurrentIdentity
) -> Swarm:
    return await swarms.add_member(session, swarm_id, payload, identity)


MESSAGES_PATH = "/api/v1/swarms/{swarm_id}/messages"
Sha256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="The attachment's sha256.")]


@router.post(
    "/{swarm_id}/messages",
    status_code=status.HTTP_201_CREATED,
    operation_id="post_swarm_message",
    summary="Post in a swarm's internal thread (never shown to the customer), JSON or multipart with files",
    openapi_extra={"requestBody": message_request_body(MessageCreate)},
    responses=problem_responses(
        SwarmNotFound,
        NotSwarmMember,
        SwarmEnded,
        ServiceUnavailable,
        BadRequest,
        PayloadTooLarge,
        UnsupportedMediaType,
        ValidationFailed,
    ),
)
async def post_swarm_message(
    swarm_id: uuid.UUID,
    request: Request,
    swarms: SwarmsDep,
    session: SessionDep,
    blobs: BlobsDep,
    settings: SettingsDep,
    identity: CurrentIdentity,
) -> SwarmMessage:
    """Files go in ``attachments`` (multipart), each at most ``COLLABORATION_MAX_ATTACHMENT_BYTES``,
    at most ``COLLABORATION_MAX_ATTACHMENTS_PER_MESSAGE`` of them."""
    payload, files = await read_message_body(
        request,
        MessageCreate,
        max_file_bytes=settings.max_attachment_bytes,
        max_files=settings.max_attachments_per_message,
    )
    # Refused (not a member, ended) before any file is stored.
    await swarms.may_post(session, swarm_id, identity)
    refs = await store_uploads(blobs, files)
    return await swarms.post(session, swarm_id, payload, identity, refs)


@router.get(
    "/{swarm_id}/attachments/{sha256}",
    operation_id="download_swarm_attachment",
    summary="Download a file of a swarm's thread (its members and leads)",
    response_class=Response,
    responses={
        200: {"description": "The file, with its recorded Content-Type.", "content": {"application/octet-stream": {}}},
        **problem_responses(SwarmNotFound, SwarmAttachmentNotFound, NotSwarmMember, ServiceUnavailable),
    },
)
async def download_swarm_attachment(
    swarm_id: uuid.UUID,
    sha256: Sha256,
    swarms: SwarmsDep,
    session: SessionDep,
    blobs: BlobsDep,
    identity: CurrentIdentity,
) -> Response:
    attachment = await swarms.attachment(session, swarm_id, sha256, identity)
    content = await blobs.get(sha256)
    if content is None:
        raise SwarmAttachmentNotFound(f"The bytes of attachment {sha256} are no longer available.")
    return download_response(content, attachment.filename, attachment.content_type)


@router.get(
    "/{swarm_id}/messages",
    operation_id="list_swarm_messages",
    summary="A swarm's thread, oldest first",
    responses=problem_responses(SwarmNotFound, InvalidCursor),
)
async def list_swarm_messages(
    swarm_id: uuid.UUID, swarms: SwarmsDep, session: SessionDep, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> Page[SwarmMessage]:
    return await swarms.messages(session, swarm_id, cursor, limit)


@router.post(
    "/{swarm_id}/messages/{message_id}/promotion",
    operation_id="promote_swarm_message",
    summary="Copy a swarm message into the case as an internal note by its author",
    responses=problem_responses(
        SwarmNotFound, SwarmMessageNotFound, NotSwarmMember, MessagePromoted, ServiceUnavailable
    ),
)
async def promote_swarm_message(
    swarm_id: uuid.UUID, message_id: uuid.UUID, swarms: SwarmsDep, session: SessionDep, identity: CurrentIdentity
) -> SwarmMessage:
    return await swarms.promote(session, swarm_id, message_id, identity)
