"""Public voice routes: a provider's incoming call webhook and its call callbacks.

As messaging's webhooks: nothing is read into storage before the ``X-Twilio-Signature``
checks out, and a webhook is answered 2xx only once what it reports is committed (503
otherwise, and the provider retries). A forged webhook is answered 403, as Twilio's own
request validators answer it, and leaves no trace but a counter.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from sqlalchemy import Row

from omnicase.intake_web.channels import signatures
from omnicase.intake_web.channels.inbound import PayloadError
from omnicase.intake_web.channels.webhooks import EMPTY_TWIML
from omnicase.intake_web.errors import STORAGE_ERRORS
from omnicase.intake_web.hours import working_now
from omnicase.intake_web.metrics import REJECTIONS
from omnicase.intake_web.public_url import called_url, public_url
from omnicase.intake_web.requests import bounded_body
from omnicase.intake_web.state import IntakeWebRuntime
from omnicase.intake_web.voice.calls import (
    CallEvent,
    answer_after_hours,
    answer_call,
    answer_callback,
    answer_dialed,
    answer_hold,
    parse_call,
    store_call,
)
from omnicase.intake_web.voice.outbound import answer_outbound, store_outbound_status
from omnicase.intake_web.voice.repository import VoiceCallRepository
from omnicase.intake_web.voice.service import (
    StoredVoiceChannel,
    VoiceChannelNotFound,
    VoiceChannelService,
    VoiceUrls,
)
from omnicase.kit.clock import utcnow
from omnicase.kit.errors import BadRequest, Forbidden, NotFound, PayloadTooLarge, ServiceUnavailable, problem_responses
from omnicase.kit.peers import PeerUnavailable

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/public/voice/channels", tags=["public voice"])

_FORM = {
    "requestBody": {
        "required": True,
        "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}},
    }
}
_TWIML = {"description": "TwiML for the provider.", "content": {"text/xml": {"schema": {"type": "string"}}}}


class VoiceChannelDisabled(Forbidden):
    slug = "voice-channel-disabled"


class CallSignatureRefused(Forbidden):
    slug = "call-signature-refused"
    title = "Signature not valid"


class NumberNotFound(NotFound):
    slug = "voice-number-not-found"


class CallNotFound(NotFound):
    slug = "voice-call-not-found"


_PROBLEMS = problem_responses(
    BadRequest,
    CallSignatureRefused,
    VoiceChannelDisabled,
    VoiceChannelNotFound,
    NumberNotFound,
    CallNotFound,
    PayloadTooLarge,
    ServiceUnavailable,
)


async def _verified(request: Request, channel_id: uuid.UUID) -> tuple[StoredVoiceChannel, list[tuple[str, str]]]:
    """The channel a webhook came to and its parameters, once its ``X-Twilio-Signature`` checked out."""
    runtime: IntakeWebRuntime = request.app.state.runtime
    try:
        async with runtime.database.unit_of_work() as session:
            channel = await VoiceChannelService(session, runtime.state.channel_secrets).find(channel_id)
    except STORAGE_ERRORS as error:
        raise ServiceUnavailable("The channel could not be read; call again.", headers={"Retry-After": "5"}) from error
    if channel is None:
        REJECTIONS.labels("voice", "unknown_channel").inc()
        raise VoiceChannelNotFound(f"Voice channel {channel_id} does not exist.")
    if not channel.enabled:
        REJECTIONS.labels("voice", "disabled").inc()
        raise VoiceChannelDisabled("This voice channel is disabled.")
    try:
        body = await bounded_body(request, runtime.settings.max_webhook_bytes)
    except PayloadTooLarge:
        REJECTIONS.labels("voice", "too_large").inc()
        raise
    params = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    base = str(channel.config.webhook_base_url) if channel.config.webhook_base_url else None
    try:
        signatures.verify_twilio(
            channel.config.auth_token,
            request.headers.get("x-twilio-signature"),
            called_url(runtime.settings, request, base),
            params,
        )
    except signatures.SignatureError as error:
        REJECTIONS.labels("voice", error.reason).inc()
        raise CallSignatureRefused(f"The request's signature is not valid: {error}.") from error
    return channel, params


async def _stored_call(runtime: IntakeWebRuntime, channel: StoredVoiceChannel, call_sid: str) -> Row[Any] | None:
    try:
        async with runtime.database.unit_of_work() as session:
            return await VoiceCallRepository(session).find(channel.id, call_sid)
    except STORAGE_ERRORS as error:
        raise ServiceUnavailable("The call could not be read; send it again.", headers={"Retry-After": "5"}) from error


def _parsed(
    channel: StoredVoiceChannel,
    params: list[tuple[str, str]],
    *,
    incoming: bool,
    dialed: uuid.UUID | None = None,
    numbers: tuple[str, str] | None = None,
) -> CallEvent:
    try:
        event = parse_call(params, incoming=incoming, dialed=dialed, numbers=numbers)
    except PayloadError as error:
        REJECTIONS.labels("voice", "payload").inc()
        raise BadRequest(f"The payload is not a call webhook: {error}.") from error
    if event.to_number not in channel.config.phone_numbers:
        REJECTIONS.labels("voice", "unknown_number").inc()
        raise NumberNotFound(f"{event.to_number} is not one of this voice channel's numbers.")
    return event


async def _taken(
    request: Request, channel_id: uuid.UUID, *, incoming: bool, dialed: uuid.UUID | None = None
) -> tuple[StoredVoiceChannel, CallEvent | None]:
    """The signed call webhook, stored once; what it is (None: an outbound call's status, noted on its case)
    and the channel it came to."""
    runtime: IntakeWebRuntime = request.app.state.runtime
    channel, params = await _verified(request, channel_id)
    numbers = None
    given = dict(params)
    if not incoming and dialed is None and given.get("CallSid"):
        stored = await _stored_call(runtime, channel, given["CallSid"])
        if stored is not None and stored.direction == "outbound":
            await _outbound_status(runtime, channel, given)
            return channel, None
        if stored is not None and not (given.get("From") and given.get("To")):
            # A recording's status callback names the call but not its numbers: the stored call has them.
            numbers = (stored.from_number, stored.to_number)
    event = _parsed(channel, params, incoming=incoming, dialed=dialed, numbers=numbers)
    try:
        async with runtime.database.unit_of_work() as session:
            await store_call(session, runtime.outbox, channel, event)
    except STORAGE_ERRORS as error:
        raise ServiceUnavailable(
            "The call could not be stored; send it again.", headers={"Retry-After": "5"}
        ) from error
    return channel, event


async def _outbound_status(runtime: IntakeWebRuntime, channel: StoredVoiceChannel, given: dict[str, str]) -> None:
    status = given.get("CallStatus", "").strip()
    if not status:
        REJECTIONS.labels("voice", "payload").inc()
        raise BadRequest("The payload is not a call webhook: an outbound call's callback reports its CallStatus.")
    duration = given.get("CallDuration", "")
    try:
        async with runtime.database.unit_of_work() as session:
            await store_outbound_status(
                session,
                runtime.outbox,
                channel,
                given["CallSid"],
                status,
                int(duration) if duration.isdigit() else None,
                utcnow(),
            )
    except STORAGE_ERRORS as error:
        raise ServiceUnavailable(
            "The call could not be stored; send it again.", headers={"Retry-After": "5"}
        ) from error


def _urls(request: Request, channel: StoredVoiceChannel) -> VoiceUrls:
    return channel.urls(public_url(request.app.state.runtime.settings, request, ""))


def _twiml(text: str) -> Response:
    return Response(text, media_type="text/xml")


@router.post(
    "/{channel_id}/calls",
    operation_id="receive_voice_call",
    summary="An incoming call (the numbers' voice URL)",
    response_class=Response,
    openapi_extra=_FORM,
    responses={200: _TWIML, **_PROBLEMS},
)
async def receive_voice_call(channel_id: uuid.UUID, request: Request) -> Response:
    """Signature first (403 otherwise); the call opens a case or joins the caller's open one. Answered with
    TwiML: the greeting, then the hold loop (a channel with a queue) or the voicemail; outside the channel's
    business hours, the after-hours message and the voicemail."""
    channel, _ = await _taken(request, channel_id, incoming=True)
    if not await _open(request.app.state.runtime, channel):
        return _twiml(answer_after_hours(channel, _urls(request, channel)))
    return _twiml(answer_call(channel, _urls(request, channel)))


async def _open(runtime: IntakeWebRuntime, channel: StoredVoiceChannel) -> bool:
    """Whether the channel is in its business hours now; open when it has none, or when sla-engine cannot
    say (a caller is better put through to the queue than turned away by an outage)."""
    schedule_id = channel.config.business_hours_id
    if schedule_id is None:
        return True
    return await working_now(runtime.state.schedules, schedule_id, unknown=True, what=f"voice channel {channel.id}")


@router.post(
    "/{channel_id}/calls/hold",
    operation_id="receive_voice_call_hold",
    summary="A caller on hold asks again (the hold loop's redirect)",
    response_class=Response,
    openapi_extra=_FORM,
    responses={200: _TWIML, **_PROBLEMS},
)
async def receive_voice_call_hold(channel_id: uuid.UUID, request: Request) -> Response:
    """Dials the agent routing gave the call's case to, holds on while the queue time lasts, then the voicemail.
    Stores nothing, but a caller's 1 (``Digits``, with ``callback_keypress``): their callback, logged on the
    case once and asked of it, and the call ends. Routing not answering keeps the caller on hold (and the
    queue time still runs)."""
    runtime: IntakeWebRuntime = request.app.state.runtime
    channel, params = await _verified(request, channel_id)
    event = _parsed(channel, params, incoming=False)
    callback = channel.config.callback_keypress and dict(params).get("Digits") == "1"
    try:
        async with runtime.database.unit_of_work() as session:
            call = await VoiceCallRepository(session).find(channel.id, event.call_sid)
            if call is not None and call.direction == "inbound" and callback:
                await store_call(session, runtime.outbox, channel, dataclasses.replace(event, kind="callback"))
    except STORAGE_ERRORS as error:
        raise ServiceUnavailable("The call could not be read; ask again.", headers={"Retry-After": "5"}) from error
    if call is None:
        REJECTIONS.labels("voice", "unknown_call").inc()
        raise CallNotFound(f"Call {event.call_sid} did not come to this voice channel.")
    if callback:
        return _twiml(answer_callback(channel))
    agent = None
    if call.case_id is not None:
        try:
            agent = await runtime.state.call_agents.agent_taking(call.case_id)
        except PeerUnavailable as error:
            logger.warning("routing cannot say who takes call %s; it holds on: %s", event.call_sid, error)
    waited = (utcnow() - call.started_at).total_seconds()
    return _twiml(answer_hold(channel, _urls(request, channel), waited, agent))


@router.post(
    "/{channel_id}/calls/dialed",
    operation_id="receive_voice_call_dialed",
    summary="The end of the dialled agent's leg of a call (Dial's action)",
    response_class=Response,
    openapi_extra=_FORM,
    responses={200: _TWIML, **_PROBLEMS},
)
async def receive_voice_call_dialed(channel_id: uuid.UUID, agent: uuid.UUID, request: Request) -> Response:
    """The agent answered (logged on the case, ``call.answered``; the call ends) or did not (the voicemail)."""
    channel, event = await _taken(request, channel_id, incoming=False, dialed=agent)
    assert event is not None, "a dialled leg is an inbound call's"
    return _twiml(answer_dialed(channel, _urls(request, channel), event))


@router.post(
    "/{channel_id}/calls/outbound",
    operation_id="receive_voice_call_outbound",
    summary="An outbound call the customer answered (the Calls resource's Url)",
    response_class=Response,
    openapi_extra=_FORM,
    responses={200: _TWIML, **_PROBLEMS},
)
async def receive_voice_call_outbound(channel_id: uuid.UUID, agent: uuid.UUID, request: Request) -> Response:
    """Signed like every webhook; connects the customer to the agent who placed the call."""
    runtime: IntakeWebRuntime = request.app.state.runtime
    channel, params = await _verified(request, channel_id)
    call_sid = dict(params).get("CallSid", "")
    stored = await _stored_call(runtime, channel, call_sid) if call_sid else None
    if stored is None or stored.direction != "outbound":
        REJECTIONS.labels("voice", "unknown_call").inc()
        raise CallNotFound(f"Call {call_sid or '(none)'} was not placed from this voice channel.")
    return _twiml(answer_outbound(agent))


@router.post(
    "/{channel_id}/calls/events",
    operation_id="receive_voice_call_event",
    summary="A call's status, recording or transcript (the numbers' status callback)",
    response_class=Response,
    openapi_extra=_FORM,
    responses={200: _TWIML, **_PROBLEMS},
)
async def receive_voice_call_event(channel_id: uuid.UUID, request: Request) -> Response:
    """Logged on the call's case once each, however often the provider sends it."""
    await _taken(request, channel_id, incoming=False)
    return _twiml(EMPTY_TWIML)
