"""Public channel routes: /public/channels/{id}/webhook (provider verification and inbound messages).

Nothing is read into storage before the signature checks out: a bad signature is
answered 401 and leaves no trace but a counter.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import ValidationError

from omnicase.intake_web.channels import media, signatures
from omnicase.intake_web.channels.definition import StoredChannel
from omnicase.intake_web.channels.inbound import (
    InboundItem,
    PayloadError,
    parse_generic,
    parse_messenger,
    parse_sms,
    parse_whatsapp,
    store,
)
from omnicase.intake_web.channels.schemas import (
    GenericConfig,
    GenericMessageIn,
    MessengerConfig,
    SmsConfig,
    WebhookAccepted,
    WhatsAppConfig,
    WidgetConfig,
)
from omnicase.intake_web.channels.service import ChannelService
from omnicase.intake_web.errors import STORAGE_ERRORS
from omnicase.intake_web.metrics import REJECTIONS
from omnicase.intake_web.public_url import called_url
from omnicase.intake_web.requests import bounded_body
from omnicase.intake_web.settings import IntakeWebSettings
from omnicase.intake_web.state import IntakeWebRuntime
from omnicase.kit.clock import utcnow
from omnicase.kit.errors import (
    BadRequest,
    FieldError,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    Unauthorized,
    ValidationFailed,
    problem_responses,
)
from omnicase.kit.inputs import body_schema

router = APIRouter(prefix="/public/channels", tags=["public channels"])

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class ChannelUnavailable(NotFound):
    slug = "channel-not-found"


class ChannelDisabled(Forbidden):
    slug = "channel-disabled"


class BadSignature(Unauthorized):
    slug = "bad-signature"
    title = "Signature not valid"


async def _channel(runtime: IntakeWebRuntime, channel_id: uuid.UUID) -> StoredChannel:
    async with runtime.database.unit_of_work() as session:
        channel = await ChannelService(session, runtime.state.channel_secrets).find(channel_id)
    if channel is None or isinstance(channel.config, WidgetConfig):
        REJECTIONS.labels("webhook", "unknown_channel").inc()
        raise ChannelUnavailable(f"Channel {channel_id} does not exist.")
    if not channel.enabled:
        REJECTIONS.labels(channel.kind.value, "disabled").inc()
        raise ChannelDisabled("This channel is disabled.")
    return channel


@router.get(
    "/{channel_id}/webhook",
    operation_id="verify_channel_webhook",
    summary="Webhook verification challenge (WhatsApp, Messenger)",
    response_class=PlainTextResponse,
    responses=problem_responses(ChannelUnavailable, ChannelDisabled, Forbidden),
)
async def verify_channel_webhook(
    channel_id: uuid.UUID,
    request: Request,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge", max_length=500)] = None,
) -> PlainTextResponse:
    """Meta calls this once when the webhook is set up and expects the challenge back."""
    channel = await _channel(request.app.state.runtime, channel_id)
    config = channel.config
    if not isinstance(config, WhatsAppConfig | MessengerConfig):
        raise Forbidden("Only WhatsApp and Messenger channels have a verification challenge.")
    if mode != "subscribe" or token is None or challenge is None:
        raise Forbidden("Expected hub.mode=subscribe with hub.verify_token and hub.challenge.")
    if not signatures.hmac_equal(token, config.verify_token):
        REJECTIONS.labels(channel.kind.value, "verify_token").inc()
        raise Forbidden("The verify token does not match this channel's.")
    return PlainTextResponse(challenge)


@router.post(
    "/{channel_id}/webhook",
    operation_id="receive_channel_webhook",
    summary="Inbound messages from a provider or an integrator",
    response_model=WebhookAccepted,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": body_schema(GenericMessageIn)},
                "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
            },
        }
    },
    responses={
        200: {
            "description": "Taken (providers): JSON, or an empty TwiML answer for SMS.",
            "content": {"text/xml": {"schema": {"type": "string"}}},
        },
        202: {"model": WebhookAccepted, "description": "Stored (integrators)."},
        **problem_responses(
            BadRequest,
            BadSignature,
            ChannelDisabled,
            ChannelUnavailable,
            PayloadTooLarge,
            ValidationFailed,
            ServiceUnavailable,
        ),
    },
)
async def receive_channel_webhook(channel_id: uuid.UUID, request: Request) -> Response:
    """Signature first (401 otherwise), then each message is stored once, threaded by its conversation."""
    runtime: IntakeWebRuntime = request.app.state.runtime
    settings = runtime.settings
    try:
        channel = await _channel(runtime, channel_id)
    except STORAGE_ERRORS as error:
        raise ServiceUnavailable(
            "The channel could not be read; send it again.", headers={"Retry-After": "5"}
        ) from error
    try:
        body = await bounded_body(request, settings.max_webhook_bytes)
    except PayloadTooLarge:
        REJECTIONS.labels(channel.kind.value, "too_large").inc()
        raise
    try:
        items = _verified_items(channel, request, body, settings)
    except signatures.SignatureError as error:
        REJECTIONS.labels(channel.kind.value, error.reason).inc()
        raise BadSignature(f"The request's signature is not valid: {error}.") from error
    except PayloadError as error:
        REJECTIONS.labels(channel.kind.value, "payload").inc()
        raise BadRequest(f"The payload is not in the provider's format: {error}.") from error
    try:
        unseen = await _unseen(runtime, channel, items)
        files = await _fetch_files(runtime, channel, unseen, settings)
        async with runtime.database.unit_of_work() as session:
            stored = await store(session, runtime.outbox, runtime.blobs, channel, unseen, files)
    except STORAGE_ERRORS as error:
        raise ServiceUnavailable(
            "The message could not be stored; send it again.", headers={"Retry-After": "5"}
        ) from error
    if isinstance(channel.config, SmsConfig):
        return Response(EMPTY_TWIML, media_type="text/xml")
    if not items:
        answer = WebhookAccepted(status="ignored")
    else:
        answer = WebhookAccepted(status="accepted" if stored else "duplicate", message_ids=stored)
    # Meta's platforms expect exactly 200; integrators are told "accepted" when something new was stored.
    status = 202 if stored and isinstance(channel.config, GenericConfig) else 200
    return JSONResponse(answer.model_dump(mode="json"), status_code=status)


def _verified_items(
    channel: StoredChannel, request: Request, body: bytes, settings: IntakeWebSettings
) -> list[InboundItem]:
    config = channel.config
    if isinstance(config, SmsConfig):
        params = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        url = str(config.webhook_url) if config.webhook_url else called_url(settings, request)
        signatures.verify_twilio(config.auth_token, request.headers.get("x-twilio-signature"), url, params)
        return parse_sms(params)
    if isinstance(config, WhatsAppConfig | MessengerConfig):
        signatures.verify_meta(config.app_secret, request.headers.get("x-hub-signature-256"), body)
        payload = _json_object(body)
        if isinstance(config, WhatsAppConfig):
            return parse_whatsapp(payload, config)
        return parse_messenger(payload, config)
    assert isinstance(config, GenericConfig)
    webhook_id = signatures.verify_standard(
        config.secrets, request.headers, body, utcnow(), settings.webhook_tolerance_seconds
    )
    try:
        message = GenericMessageIn.model_validate_json(body)
    except ValidationError as error:
        REJECTIONS.labels(channel.kind.value, "invalid").inc()
        errors = [
            FieldError(field=".".join(["body", *map(str, e["loc"])]), message=e["msg"], code=e["type"])
            for e in error.errors()
        ]
        raise ValidationFailed("The message is not valid.", errors=errors) from error
    return [parse_generic(message, webhook_id)]


async def _unseen(runtime: IntakeWebRuntime, channel: StoredChannel, items: list[InboundItem]) -> list[InboundItem]:
    """Items not stored yet (a provider's retry must not fetch files again); storing rechecks atomically."""
    keys = [item.dedupe_key for item in items if item.dedupe_key]
    async with runtime.database.unit_of_work() as session:
        seen = await ChannelService(session, runtime.state.channel_secrets).seen(channel.id, keys)
    return [item for item in items if item.dedupe_key not in seen]


async def _fetch_files(
    runtime: IntakeWebRuntime, channel: StoredChannel, items: list[InboundItem], settings: IntakeWebSettings
) -> dict[int, list[media.Media]]:
    config = channel.config
    files: dict[int, list[media.Media]] = {}
    if not isinstance(config, SmsConfig | WhatsAppConfig | MessengerConfig):
        return files
    http = runtime.state.http
    for index, item in enumerate(items):
        for number, ref in enumerate(item.media):
            try:
                fetched = await media.fetch(
                    http, config, ref, number, settings.max_media_bytes, settings.delivery_timeout_seconds
                )
            except media.MediaTooLarge as error:
                item.metadata.setdefault("files_skipped", []).append(str(error))
                continue
            except media.MediaUnavailable as error:
                REJECTIONS.labels(channel.kind.value, "media_unavailable").inc()
                raise ServiceUnavailable(
                    f"A file of the message could not be fetched from the provider ({error}); send it again.",
                    headers={"Retry-After": "30"},
                ) from error
            files.setdefault(index, []).append(fetched)
    return files


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except ValueError as error:
        raise PayloadError("the body is not JSON") from error
    if not isinstance(payload, dict):
        raise PayloadError("the body is not a JSON object")
    return payload
