"""The desk's side of a chat (issue 23): an agent is typing or has read, and where both sides stand.

Under the case the chat opened (``/api/v1/cases/{case_id}/chat``, routed here by the gateway and
checked on the ``cases`` scopes, as the case's own replies are): an agent's typing and read
receipts go to the visitor's widget live, the visitor's come back here and on the gateway's
live stream (``intake.widget_signalled``).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from omnicase.intake_web.errors import STORAGE_ERRORS
from omnicase.intake_web.state import IntakeWebRuntime
from omnicase.intake_web.widget.repository import AGENT
from omnicase.intake_web.widget.schemas import ChatState, WidgetSignalIn
from omnicase.intake_web.widget.service import TYPING_SHOWN, NoChat, WidgetService
from omnicase.kit.clock import utcnow
from omnicase.kit.errors import ServiceUnavailable, ValidationFailed, problem_responses
from omnicase.kit.identity import AUTH_PROBLEMS, Identity, area_access

router = APIRouter(prefix="/api/v1/cases/{case_id}/chat", tags=["chat"])

CaseAccess = Annotated[Identity, Depends(area_access("cases"))]


def _widget(request: Request) -> WidgetService:
    runtime: IntakeWebRuntime = request.app.state.runtime
    return runtime.state.widget


async def _chat_state(widget: WidgetService, case_id: uuid.UUID) -> ChatState:
    try:
        conversation_id, signals = await widget.chat_of_case(case_id)
    except STORAGE_ERRORS as error:
        raise ServiceUnavailable("The chat could not be read; try again.") from error
    now = utcnow()
    return ChatState(
        conversation_id=conversation_id,
        channel_id=signals.channel_id,
        last_seq=signals.last_seq,
        visitor_read_seq=signals.visitor_read_seq,
        agent_read_seq=signals.agent_read_seq,
        visitor_typing=signals.visitor_typing_at is not None and now - signals.visitor_typing_at < TYPING_SHOWN,
        agent_typing=signals.agent_typing_at is not None and now - signals.agent_typing_at < TYPING_SHOWN,
    )


@router.get(
    "",
    operation_id="get_case_chat",
    summary="Where the case's chat stands: each side's last entry read, who is typing",
    responses=AUTH_PROBLEMS | problem_responses(NoChat, ServiceUnavailable),
)
async def get_case_chat(case_id: uuid.UUID, request: Request, _: CaseAccess) -> ChatState:
    return await _chat_state(_widget(request), case_id)


@router.post(
    "/signals",
    status_code=204,
    operation_id="post_case_chat_signal",
    summary="An agent is typing, or has read the chat (up to seq; everything so far when left out)",
    response_class=Response,
    responses=AUTH_PROBLEMS | problem_responses(NoChat, ValidationFailed, ServiceUnavailable),
)
async def post_case_chat_signal(case_id: uuid.UUID, body: WidgetSignalIn, request: Request, _: CaseAccess) -> Response:
    """The visitor's widget shows it live ("typing…", "Read" under their messages)."""
    widget = _widget(request)
    state = await _chat_state(widget, case_id)
    try:
        await widget.signal(state.conversation_id, AGENT, body.type, body.seq)
    except STORAGE_ERRORS as error:
        raise ServiceUnavailable("The signal could not be stored; try again.") from error
    return Response(status_code=204)
