"""Voice channel admin routes: /api/v1/voice/channels (numbers, greeting, voicemail, the provider's token)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from omnicase.intake_web.access import ChannelAccess
from omnicase.intake_web.public_url import public_url
from omnicase.intake_web.state import current_state
from omnicase.intake_web.voice.schemas import VoiceCall, VoiceChannelIn, VoiceChannelOut
from omnicase.intake_web.voice.service import VoiceChannelNotFound, VoiceChannelService
from omnicase.kit.db import SessionDep
from omnicase.kit.errors import ValidationFailed, problem_responses
from omnicase.kit.identity import AUTH_PROBLEMS
from omnicase.kit.pagination import CursorQuery, InvalidCursor, LimitQuery, Page
from omnicase.kit.routes import Doc, resource_routes

router = APIRouter(prefix="/api/v1/voice/channels", tags=["voice"])


def _service(request: Request, session: SessionDep) -> VoiceChannelService:
    settings = request.app.state.settings
    return VoiceChannelService(session, current_state(request).channel_secrets, public_url(settings, request, ""))


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
        (ValidationFailed,),
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
        (VoiceChannelNotFound, ValidationFailed),
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
