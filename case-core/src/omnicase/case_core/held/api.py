"""``/api/v1/suspended-messages``: what the intakes held back, for staff to recover or delete."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Response

from omnicase.case_core.held.schemas import HeldMessage, HeldMessageSummary, summary, whole
from omnicase.case_core.held.service import HeldMessageNotFound, HeldMessageSettled
from omnicase.case_core.identity import CaseReader, CaseWriter
from omnicase.case_core.wiring import ServicesDep
from omnicase.kit.db import SessionDep
from omnicase.kit.errors import problem_responses
from omnicase.kit.events import Channel, HoldReason
from omnicase.kit.identity import AUTH_PROBLEMS
from omnicase.kit.pagination import InvalidCursor, LimitQuery, Page, cursor_query, decode_cursor, paginate

router = APIRouter(prefix="/api/v1/suspended-messages", tags=["suspended messages"], responses=AUTH_PROBLEMS)


@router.get(
    "",
    operation_id="list_suspended_messages",
    summary="Messages held back instead of becoming cases, newest first",
    response_model=Page[HeldMessageSummary],
    responses=problem_responses(InvalidCursor),
)
async def list_suspended_messages(
    session: SessionDep,
    services: ServicesDep,
    actor: CaseReader,
    channel: Channel | None = None,
    reason: HoldReason | None = None,
    cursor: Annotated[str | None, cursor_query(datetime, uuid.UUID)] = None,
    limit: LimitQuery = 50,
) -> Page[HeldMessageSummary]:
    """Only messages still held: recovered and deleted ones leave the list."""
    rows = await services.held.page(
        session,
        channel=channel.value if channel else None,
        reason=reason.value if reason else None,
        after=decode_cursor(cursor, datetime, uuid.UUID),
        limit=limit + 1,
    )
    return paginate(Page[HeldMessageSummary], rows, limit, key=lambda row: [row.received_at, row.id], item=summary)


@router.get(
    "/{held_id}",
    operation_id="get_suspended_message",
    summary="A held message whole, and what became of it",
    response_model=HeldMessage,
    responses=problem_responses(HeldMessageNotFound),
)
async def get_suspended_message(
    held_id: uuid.UUID, session: SessionDep, services: ServicesDep, actor: CaseReader
) -> HeldMessage:
    return whole(await services.held.get(session, held_id))


@router.post(
    "/{held_id}/recover",
    operation_id="recover_suspended_message",
    summary="Hand a held message on: it opens a case or joins its thread, exactly once",
    response_model=HeldMessage,
    responses=problem_responses(HeldMessageNotFound, HeldMessageSettled),
)
async def recover_suspended_message(
    held_id: uuid.UUID, session: SessionDep, services: ServicesDep, actor: CaseWriter
) -> HeldMessage:
    """The answer names the case it became; a second recovery is a 409 naming it too."""
    return whole(await services.held.recover(session, held_id, actor, services.intake.receive_one))


@router.delete(
    "/{held_id}",
    operation_id="delete_suspended_message",
    summary="Delete a held message for good",
    status_code=204,
    responses=problem_responses(HeldMessageNotFound, HeldMessageSettled),
)
async def delete_suspended_message(
    held_id: uuid.UUID, session: SessionDep, services: ServicesDep, actor: CaseWriter
) -> Response:
    await services.held.delete(session, held_id, actor)
    return Response(status_code=204)
