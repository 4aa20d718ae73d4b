"""A case's staff notifications (trigger emails to its assignee or a group) and their outcome."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from omnicase.case_core.errors import CaseNotFound
from omnicase.case_core.identity import CaseReader
from omnicase.case_core.notifications.schemas import Notification, to_notification
from omnicase.case_core.wiring import ServicesDep
from omnicase.kit.db import SessionDep
from omnicase.kit.errors import problem_responses
from omnicase.kit.identity import AUTH_PROBLEMS
from omnicase.kit.pagination import CursorQuery, InvalidCursor, LimitQuery, Page, decode_id_cursor, paginate

router = APIRouter(prefix="/api/v1/cases", tags=["cases"], responses=AUTH_PROBLEMS)


@router.get(
    "/{case_id}/notifications",
    operation_id="list_case_notifications",
    summary="Emails to staff about the case (triggers' emails to the assignee or a group), oldest first",
    response_model=Page[Notification],
    responses=problem_responses(CaseNotFound, InvalidCursor),
)
async def list_notifications(
    case_id: uuid.UUID,
    session: SessionDep,
    services: ServicesDep,
    actor: CaseReader,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[Notification]:
    await services.cases.get(session, case_id)
    rows = await services.notifications.of_case(session, case_id, after=decode_id_cursor(cursor), limit=limit + 1)
    return paginate(Page[Notification], rows, limit, key=lambda row: [row.id], item=to_notification)
