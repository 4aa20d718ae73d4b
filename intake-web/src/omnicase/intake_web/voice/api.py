"""Voice channel admin routes: /api/v1/voice/channels (numbers, greeting, voicemail, the provider's token)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from omnicase.intake_web.access import ChannelAccess
from omnicase.intake_web.public_url import public_url
from omnicase.intake_web.state import IntakeWebRuntime, current_state
from omnicase.intake_web.voice.outbound import CallNotPlaced, create_provider_call, record_placed_call
from omnicase.intake_web.voice.schemas import OutboundCallIn, VoiceCall, VoiceChannelIn, VoiceChannelOut
from omnicase.intake_web.voice.service import VoiceChannelNotFound, VoiceChannelService
from omnicase.intake_web.voice.webhooks import VoiceChannelDisabled
from omnicase.kit.clock import utcnow
from omnicase.kit.db import SessionDep
from omnicase.kit.errors import (
    NOT_FOUND_CODE,
    FieldError,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    StateConflict,
    UnknownReference,
    ValidationFailed,
    problem_responses,
    refusal,
)
from omnicase.kit.identity import AUTH_PROBLEMS, Identity, area_access
from omnicase.kit.pagination import CursorQuery, InvalidCursor, LimitQuery, Page
from omnicase.kit.peers import PeerUnavailable
from omnicase.kit.routes import Doc, resource_routes

router = APIRouter(prefix="/api/v1/voice/channels", tags=["voice"])
# Click-to-call: a call placed from a case (the gateway routes /api/v1/cases/*/calls here).
case_calls_router = APIRouter(prefix="/api/v1/cases", tags=["voice"])
CaseAccess = Annotated[Identity, Depends(area_access("cases"))]


class CaseNotFound(NotFound):
    slug = "case-not-found"


class NotAnAgent(Forbidden):
    slug = "not-an-agent"


def _service(request: Request, session: SessionDep) -> VoiceChannelService:
    settings, state = request.app.state.settings, current_state(request)
    return VoiceChannelService(
        session, state.channel_secrets, public_url(settings, request, ""), state.brands, state.schedules
    )


@router.get(
    "/{channel_id}/calls",
    operation_id="list_voice_calls",
    summary="Calls a voice channel took, newest first",
    responses=AUTH_PROBLEMS | problem_responses(VoiceChannelNotFound, InvalidCursor, ValidationFailed),
)
async def list_voice_calls(
    channel_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    _: ChannelAccess,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[VoiceCall]:
    """Each call's latest status, duration, recording and transcript, and the case it is logged on."""
    return await _service(request, session).calls_of(channel_id, cursor, limit)


resource_routes(
    router,
    _service,
    key="channel_id",
    item=VoiceChannelOut,
    body=VoiceChannelIn,
    view="view",
    location=True,
    problems=AUTH_PROBLEMS,
    create=Doc(
        "create_voice_channel",
        "Connect a telephony provider's numbers",
        (ValidationFailed, UnknownReference, ServiceUnavailable),
        description="Calls to the numbers become cases (or join the caller's open case); give the provider the "
        "answer's `voice_url` and `status_callback_url`.",
        dependencies=[ChannelAccess],
    ),
    list_=Doc(
        "list_voice_channels", "List voice channels", (InvalidCursor, ValidationFailed), dependencies=[ChannelAccess]
    ),
    get=Doc(
        "get_voice_channel",
        "Read a voice channel",
        (VoiceChannelNotFound, ValidationFailed),
        dependencies=[ChannelAccess],
    ),
    replace=Doc(
        "replace_voice_channel",
        "Replace a voice channel's configuration",
        (VoiceChannelNotFound, ValidationFailed, UnknownReference, ServiceUnavailable),
        description="The whole configuration, as on creation (the auth token must be given again).",
        dependencies=[ChannelAccess],
    ),
    delete=Doc(
        "delete_voice_channel",
        "Disconnect a voice channel",
        (VoiceChannelNotFound, ValidationFailed),
        dependencies=[ChannelAccess],
    ),
)


@case_calls_router.post(
    "/{case_id}/calls",
    operation_id="create_case_call",
    summary="Call the customer from a case (click-to-call)",
    status_code=201,
    responses=AUTH_PROBLEMS
    | problem_responses(
        CaseNotFound,
        UnknownReference,
        VoiceChannelDisabled,
        NotAnAgent,
        CallNotPlaced,
        StateConflict,
        ValidationFailed,
        ServiceUnavailable,
    ),
)
async def create_case_call(
    case_id: uuid.UUID, body: OutboundCallIn, request: Request, session: SessionDep, identity: CaseAccess
) -> VoiceCall:
    """The provider rings ``to`` (by default the case's requester's first phone number) from the channel's first
    number and, once answered, connects the agent placing the call (their voice client); the call is logged on the
    case as internal notes and on ``voice.events``. A requester with no phone and no ``to`` is a 409 naming
    ``body.to``."""
    if identity.kind != "user":
        raise NotAnAgent("Only a person places a call: the provider connects it to their voice client.")
    runtime: IntakeWebRuntime = request.app.state.runtime
    service = _service(request, session)
    try:
        channel = await service.get(body.channel_id)
    except VoiceChannelNotFound as error:
        # The body names it, the path does not: the kit's 404 naming the field, not a missing resource.
        unknown = FieldError(field="body.channel_id", message="no voice channel has this id", code=NOT_FOUND_CODE)
        raise refusal("No voice channel has that id.", [unknown]) from error
    if not channel.enabled:
        raise VoiceChannelDisabled("This voice channel is disabled.")
    cases = current_state(request).cases
    try:
        if body.to is not None:
            phones: list[str] | None = [body.to] if await cases.exists(case_id) else None
        else:
            phones = await cases.requester_phones(case_id)
    except PeerUnavailable as error:
        raise ServiceUnavailable("case-core cannot say whether the case exists; try again.") from error
    if phones is None:
        raise CaseNotFound(f"Case {case_id} does not exist.")
    if not phones:
        missing = FieldError(
            field="body.to", message="the case's requester has no phone number: give one", code="missing"
        )
        # The body is valid; the stored contact decides: a 409 (CONTRIBUTING), naming the field that would settle it.
        detail = "The case's requester has no phone number to call; name the number in `to`."
        raise refusal(detail, [missing], conflicts={"missing"})
    to = phones[0]
    agent = uuid.UUID(identity.subject)
    urls = channel.urls(public_url(runtime.settings, request, ""))
    sid = await create_provider_call(
        current_state(request).http, channel, urls, to, agent, runtime.settings.voice_provider_timeout_seconds
    )
    call_id = await record_placed_call(session, runtime.outbox, channel, case_id, agent, sid, to, utcnow())
    return await service.call(call_id)
