"""Channel admin routes: /api/v1/channels (SMS, WhatsApp, Messenger, generic integrator webhooks)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from omnicase.intake_web.access import ChannelAccess
from omnicase.intake_web.channels.definition import StoredChannel
from omnicase.intake_web.channels.schemas import ChannelIn, ChannelKind, ChannelMessage, ChannelOut, Delivery
from omnicase.intake_web.channels.service import ChannelNotFound, ChannelService
from omnicase.intake_web.public_url import public_url
from omnicase.intake_web.settings import IntakeWebSettings
from omnicase.intake_web.state import current_state
from omnicase.intake_web.widget.snippet import NotAWidget, render_snippet, widget_script_path
from omnicase.kit.db import SessionDep
from omnicase.kit.errors import BadRequest, ServiceUnavailable, UnknownReference, ValidationFailed, problem_responses
from omnicase.kit.identity import AUTH_PROBLEMS
from omnicase.kit.pagination import CursorQuery, LimitQuery, Page, paginate

router = APIRouter(prefix="/api/v1/channels", tags=["channels"])


def _service(request: Request, session: SessionDep) -> ChannelService:
    state = current_state(request)
    return ChannelService(session, state.channel_secrets, state.brands, state.schedules)


def _out(request: Request, channel: StoredChannel) -> ChannelOut:
    settings: IntakeWebSettings = request.app.state.settings
    if channel.kind is ChannelKind.WIDGET:
        return channel.public(public_url(settings, request, widget_script_path(channel.id)))
    return channel.public(public_url(settings, request, f"/public/channels/{channel.id}/webhook"))


@router.post(
    "",
    status_code=201,
    operation_id="create_channel",
    summary="Connect a messaging provider or an integrator",
    responses=AUTH_PROBLEMS | problem_responses(ValidationFailed, UnknownReference, ServiceUnavailable),
)
async def create_channel(
    body: ChannelIn, request: Request, response: Response, session: SessionDep, _: ChannelAccess
) -> ChannelOut:
    """Messages posted to the channel's webhook URL become cases; replies on them go out through it."""
    channel = await _service(request, session).create(body)
    response.headers["Location"] = f"/api/v1/channels/{channel.id}"
    return _out(request, channel)


@router.get(
    "",
    operation_id="list_channels",
    summary="List channels",
    responses=AUTH_PROBLEMS | problem_responses(BadRequest, ValidationFailed),
)
async def list_channels(
    request: Request,
    session: SessionDep,
    _: ChannelAccess,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[ChannelOut]:
    channels = await _service(request, session).list(cursor, limit)
    return paginate(
        Page[ChannelOut], channels, limit, key=lambda channel: [channel.id], item=lambda c: _out(request, c)
    )


@router.get(
    "/{channel_id}",
    operation_id="get_channel",
    summary="Read a channel",
    responses=AUTH_PROBLEMS | problem_responses(ChannelNotFound, ValidationFailed),
)
async def get_channel(channel_id: uuid.UUID, request: Request, session: SessionDep, _: ChannelAccess) -> ChannelOut:
    return _out(request, await _service(request, session).get(channel_id))


@router.put(
    "/{channel_id}",
    operation_id="replace_channel",
    summary="Replace a channel's configuration (secrets included)",
    responses=AUTH_PROBLEMS
    | problem_responses(ChannelNotFound, ValidationFailed, UnknownReference, ServiceUnavailable),
)
async def replace_channel(
    channel_id: uuid.UUID, body: ChannelIn, request: Request, session: SessionDep, _: ChannelAccess
) -> ChannelOut:
    """To rotate a generic webhook secret: put the new one first and keep the old one second until senders switch."""
    return _out(request, await _service(request, session).replace(channel_id, body))


@router.delete(
    "/{channel_id}",
    status_code=204,
    operation_id="delete_channel",
    summary="Disconnect a channel",
    responses=AUTH_PROBLEMS | problem_responses(ChannelNotFound, ValidationFailed),
)
async def delete_channel(channel_id: uuid.UUID, request: Request, session: SessionDep, _: ChannelAccess) -> Response:
    await _service(request, session).delete(channel_id)
    return Response(status_code=204)


@router.get(
    "/{channel_id}/messages",
    operation_id="list_channel_messages",
    summary="Messages a channel received, newest first",
    responses=AUTH_PROBLEMS | problem_responses(ChannelNotFound, BadRequest, ValidationFailed),
)
async def list_channel_messages(
    channel_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    _: ChannelAccess,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[ChannelMessage]:
    return await _service(request, session).messages_of(channel_id, cursor, limit)


@router.get(
    "/{channel_id}/deliveries",
    operation_id="list_channel_deliveries",
    summary="Replies sent (or being sent) through a channel, newest first",
    responses=AUTH_PROBLEMS | problem_responses(ChannelNotFound, BadRequest, ValidationFailed),
)
async def list_channel_deliveries(
    channel_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    _: ChannelAccess,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[Delivery]:
    """Status, attempts, the provider's message id or the last error of each reply."""
    return await _service(request, session).deliveries_of(channel_id, cursor, limit)


@router.get(
    "/{channel_id}/snippet",
    operation_id="get_channel_snippet",
    summary="The chat widget's snippet to paste into a site's pages",
    response_class=HTMLResponse,
    responses={
        200: {"content": {"text/html": {"schema": {"type": "string"}}}},
        **AUTH_PROBLEMS,
        **problem_responses(ChannelNotFound, NotAWidget, ValidationFailed),
    },
)
async def get_channel_snippet(
    channel_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    _: ChannelAccess,
    locale: Annotated[
        str | None,
        Query(
            pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$",
            description="The widget's language; unset, the visitor's browser chooses (then the channel's default).",
        ),
    ] = None,
) -> HTMLResponse:
    """One `<script>` tag: it adds a launcher and a conversation panel to any page it is pasted into."""
    channel = await _service(request, session).get(channel_id)
    settings: IntakeWebSettings = request.app.state.settings
    return HTMLResponse(render_snippet(channel, public_url(settings, request, widget_script_path(channel.id)), locale))
