"""Public widget routes: /public/messaging/{channel_id}/... (the script, conversations, messages, live events).

A browser on an allowed site (the channel's ``allowed_origins``; empty allows any) opens a
conversation (a signed token, nothing stored), posts messages (each answered only once
committed; the same ``client_id`` again is the same message) and listens on a server-sent
event stream that resumes after ``Last-Event-ID``. Every refusal is problem+json carrying
the CORS headers the widget needs to read it, and changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import ValidationError
from starlette.requests import HTTPConnection

from omnicase.intake_web.channels.definition import StoredChannel
from omnicase.intake_web.channels.schemas import PreChat, WidgetConfig
from omnicase.intake_web.channels.service import ChannelService
from omnicase.intake_web.errors import STORAGE_ERRORS
from omnicase.intake_web.forms import spam as form_spam
from omnicase.intake_web.forms import tokens as form_tokens
from omnicase.intake_web.forms.render import CAPTCHA_WIDGETS
from omnicase.intake_web.forms.schemas import CAPTCHA_RESPONSE_FIELDS
from omnicase.intake_web.metrics import REJECTIONS
from omnicase.intake_web.public_url import public_url
from omnicase.intake_web.requests import bounded_body, client_ip
from omnicase.intake_web.settings import IntakeWebSettings
from omnicase.intake_web.state import IntakeWebRuntime
from omnicase.intake_web.widget import tokens
from omnicase.intake_web.widget.answers import NoArticlesShown, WidgetAnswers
from omnicase.intake_web.widget.repository import AGENT, VISITOR, Entry
from omnicase.intake_web.widget.schemas import (
    ConversationStarted,
    ConversationStartIn,
    SocketFrameIn,
    WidgetAnswerIn,
    WidgetEntry,
    WidgetHoursOut,
    WidgetMessageIn,
    WidgetSignalIn,
    WidgetTranscript,
    WidgetUploadIn,
)
from omnicase.intake_web.widget.service import TYPING_SHOWN, Posted
from omnicase.kit import locales
from omnicase.kit.backoff import JITTER
from omnicase.kit.clock import utcnow
from omnicase.kit.errors import (
    BadRequest,
    FieldError,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServiceError,
    ServiceUnavailable,
    StateConflict,
    Unauthorized,
    UnknownReference,
    UnsupportedMediaType,
    ValidationFailed,
    problem_document,
    problem_responses,
    refusal,
)
from omnicase.kit.events import AttachmentRef
from omnicase.kit.identity import InvalidToken
from omnicase.kit.ids import uuid7
from omnicase.kit.inputs import body_schema
from omnicase.kit.uploads import read_message_body, store_uploads

router = APIRouter(prefix="/public/messaging", tags=["public messaging"])

EVENT_STREAM = "text/event-stream"
TOKEN_HEADER = "X-Widget-Token"
RECONNECT_MS = 3000
# A message body is JSON around at most 20,000 characters (4 bytes each in UTF-8 at worst).
MAX_MESSAGE_BODY = 100_000


class WidgetNotFound(NotFound):
    slug = "widget-not-found"


class WidgetDisabled(Forbidden):
    slug = "widget-disabled"


class OriginNotAllowed(Forbidden):
    slug, title = "origin-not-allowed", "Origin not allowed"


class WidgetTokenInvalid(Unauthorized):
    slug, title = "widget-token-invalid", "Conversation token not valid"


class WidgetIdentityInvalid(Unauthorized):
    slug, title = "widget-identity-invalid", "Identity token not valid"


class MessageTooLong(PayloadTooLarge):
    slug, title = "message-too-long", "Message too long"


class NotAcceptable(ServiceError):
    status, slug, title = 406, "not-acceptable", "Not acceptable"


WIDGET_PROBLEMS = (WidgetNotFound, WidgetDisabled, OriginNotAllowed)


def _runtime(request: HTTPConnection) -> IntakeWebRuntime:
    runtime: IntakeWebRuntime = request.app.state.runtime
    return runtime


def _cors(config: WidgetConfig, origin: str | None) -> dict[str, str]:
    if not origin or (config.allowed_origins and origin not in config.allowed_origins):
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Expose-Headers": "Retry-After, Idempotent-Replayed",
        "Vary": "Origin",
    }


class _Widget:
    """The widget channel a request is for, after its origin check; its CORS headers for every answer."""

    def __init__(self, channel: StoredChannel, config: WidgetConfig, cors: dict[str, str]) -> None:
        self.channel = channel
        self.config = config
        self.cors = cors

    def refuse(self, error: ServiceError) -> ServiceError:
        error.headers.update(self.cors)
        return error


async def _widget(request: HTTPConnection, channel_id: uuid.UUID, origin: str | None) -> _Widget:
    runtime = _runtime(request)
    try:
        async with runtime.database.unit_of_work() as session:
            channel = await ChannelService(session, runtime.state.channel_secrets).find(channel_id)
    except STORAGE_ERRORS as error:
        raise ServiceUnavailable("The widget could not be read; try again.") from error
    if channel is None or not isinstance(channel.config, WidgetConfig):
        REJECTIONS.labels("widget", "unknown_channel").inc()
        raise WidgetNotFound(f"There is no chat widget {channel_id}.")
    config = channel.config
    if origin and config.allowed_origins and origin not in config.allowed_origins:
        REJECTIONS.labels("widget", "origin").inc()
        raise OriginNotAllowed(f"{origin} may not embed this chat widget.")
    widget = _Widget(channel, config, _cors(config, origin))
    if not channel.enabled:
        REJECTIONS.labels("widget", "disabled").inc()
        raise widget.refuse(WidgetDisabled("This chat is switched off."))
    return widget


def _conversation(widget: _Widget, token: str | None, settings: IntakeWebSettings) -> uuid.UUID:
    return _held(widget, token, settings).conversation_id


def _held(widget: _Widget, token: str | None, settings: IntakeWebSettings) -> tokens.Conversation:
    """The conversation the visitor's token names (and who they are, when the site identified them)."""
    if not token:
        REJECTIONS.labels("widget", "token").inc()
        raise widget.refuse(WidgetTokenInvalid(f"Send the conversation's token in {TOKEN_HEADER}."))
    try:
        return tokens.read(settings.widget_token_secret, token, widget.channel.id, utcnow())
    except InvalidToken as error:
        REJECTIONS.labels("widget", "token").inc()
        raise widget.refuse(
            WidgetTokenInvalid(f"The conversation token is not valid ({error}); start a new conversation.")
        ) from error


@cache
def _widget_texts() -> dict[str, dict[str, str]]:
    """The widget's own words in every locale the kit's locale files give them in (English behind a missing key)."""
    return {
        locale: locales.section("widget", locale)
        for locale, sections in locales.catalog().items()
        if "widget" in sections
    }


@cache
def _script_source() -> str:
    return resources.files("omnicase.intake_web.widget").joinpath("static/widget.js").read_text(encoding="utf-8")


@router.get(
    "/{channel_id}/widget.js",
    operation_id="get_widget_script",
    summary="The chat widget's script, configured for this channel",
    response_class=Response,
    responses={
        200: {"content": {"text/javascript": {"schema": {"type": "string"}}}},
        **problem_responses(*WIDGET_PROBLEMS),
    },
)
async def get_widget_script(channel_id: uuid.UUID, request: Request) -> Response:
    """What the snippet loads: plain JavaScript, no framework; its settings come with it (one request)."""
    widget = await _widget(request, channel_id, None)
    config = widget.config
    settings = {
        "channel": str(widget.channel.id),
        "base": public_url(request.app.state.settings, request, f"/public/messaging/{widget.channel.id}"),
        "color": config.color,
        "defaultLocale": config.default_locale,
        "title": config.title,
        "greeting": config.greeting,
        "maxChars": config.max_message_chars,
        "maxFiles": config.max_attachments,
        "maxFileBytes": config.max_attachment_bytes,
        "preChat": config.pre_chat.model_dump() if config.pre_chat else None,
        # Outside the chat's business hours: leave a message (as of when the script was served; a widget whose
        # chat has hours asks again when it opens and before its first message: ``/hours``).
        "away": await _runtime(request).state.widget.away(widget.channel),
        "hours": config.has_hours,
        "spam": _spam_settings(widget, request.app.state.settings),
        "texts": _widget_texts(),
    }
    # json.dumps escapes nothing HTML-special, but the script is served as JavaScript, never inlined in a page
    # by us; "</" is escaped anyway so a snippet that inlines it stays one script.
    prelude = "window.OmnicaseWidgetSettings=" + json.dumps(settings, ensure_ascii=True).replace("</", "<\\/") + ";\n"
    return Response(
        prelude + _script_source(),
        media_type="text/javascript; charset=utf-8",
        # A chat with business hours is cached a minute, so the widget says it is away soon after closing time.
        headers={"Cache-Control": f"public, max-age={60 if config.has_hours else 300}"},
    )


@router.options(
    "/{channel_id}/{action}",
    operation_id="preflight_widget",
    summary="CORS preflight for the widget's endpoints",
    status_code=204,
    responses=problem_responses(*WIDGET_PROBLEMS),
)
async def preflight_widget(
    channel_id: uuid.UUID, action: str, request: Request, origin: Annotated[str | None, Header()] = None
) -> Response:
    widget = await _widget(request, channel_id, origin)
    if action not in (
        "conversations",
        "conversation",
        "messages",
        "attachments",
        "events",
        "answered",
        "handover",
        "signals",
    ):
        raise widget.refuse(WidgetNotFound(f"The widget has no {action} endpoint."))
    return Response(
        status_code=204,
        headers={
            **widget.cors,
            "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
            "Access-Control-Allow-Headers": f"Content-Type, Accept, {TOKEN_HEADER}, Last-Event-ID",
            "Access-Control-Max-Age": "600",
        },
    )


@router.post(
    "/{channel_id}/conversations",
    status_code=201,
    operation_id="start_widget_conversation",
    summary="A visitor's conversation: a new one, or an identified customer's own (nothing is stored until they write)",
    response_model=ConversationStarted,
    responses=problem_responses(
        *WIDGET_PROBLEMS,
        WidgetIdentityInvalid,
        form_spam.FillTokenInvalid,
        form_spam.SubmittedTooFast,
        form_spam.CaptchaFailed,
        StateConflict,
        ValidationFailed,
        form_spam.CaptchaUnavailable,
    ),
)
async def start_widget_conversation(
    channel_id: uuid.UUID,
    request: Request,
    body: ConversationStartIn | None = None,
    origin: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Anonymous: a new conversation. With the site's `identity` JWT: that customer's one conversation on
    this widget, their earlier messages included, their messages from their own address. A widget with the
    forms' spam rules checks an anonymous visitor here: a filled honeypot is answered as if accepted and the
    conversation held as spam (its messages never open a case); too fast, a bad fill-time token or a captcha
    not passed is refused, storing nothing."""
    widget = await _widget(request, channel_id, origin)
    settings: IntakeWebSettings = request.app.state.settings
    now = utcnow()
    visitor = None
    spam = None
    conversation_id = uuid7()
    if body is not None and body.identity is not None:
        try:
            visitor = tokens.site_visitor(body.identity, widget.config.identity_secrets, now)
        except InvalidToken as error:
            REJECTIONS.labels("widget", "identity").inc()
            raise widget.refuse(WidgetIdentityInvalid(f"The site's identity token is not valid: {error}.")) from error
        conversation_id = tokens.visitor_conversation(widget.channel.id, visitor.user_id or "")
    else:
        if widget.config.spam is not None:
            spam = await _spam_check(request, widget, body or ConversationStartIn(), settings)
        if widget.config.pre_chat is not None or (body is not None and body.model_fields_set - NOT_ANSWERS):
            # The pre-chat form's answers; or, from a chat without one, what a visitor leaving a message gave
            # (their email, to be answered by) outside business hours.
            visitor = _pre_chat(widget, body or ConversationStartIn())
    token = tokens.issue(
        settings.widget_token_secret, widget.channel.id, conversation_id, now, settings.widget_token_days, visitor, spam
    )
    started = ConversationStarted(
        conversation_id=conversation_id,
        token=token,
        expires_at=tokens.read(settings.widget_token_secret, token, widget.channel.id, now).expires_at,
    )
    return JSONResponse(
        started.model_dump(mode="json"), status_code=201, headers={"Cache-Control": "no-store", **widget.cors}
    )


# What a conversation's start carries beside the pre-chat form's answers.
NOT_ANSWERS = frozenset({"identity", "honeypot", "ts", "captcha"})


def _spam_settings(widget: _Widget, settings: IntakeWebSettings) -> dict[str, Any] | None:
    """What the script needs of the forms' spam rules: the honeypot's name, a fill-time token (the forms' own,
    for this channel, issued as the script is served), the captcha's provider widget."""
    spam = widget.config.spam
    if spam is None:
        return None
    captcha = None
    if spam.captcha is not None:
        css_class, script = CAPTCHA_WIDGETS[spam.captcha.provider]
        field = CAPTCHA_RESPONSE_FIELDS[spam.captcha.provider]
        captcha = {"class": css_class, "script": script, "siteKey": spam.captcha.site_key, "field": field}
    token = form_tokens.issue(settings.form_token_secret, widget.channel.id, utcnow())
    return {"honeypot": spam.honeypot_field, "ts": token, "captcha": captcha}


async def _spam_check(
    request: Request, widget: _Widget, answers: ConversationStartIn, settings: IntakeWebSettings
) -> str | None:
    """The forms' rules for a conversation's start, in their order: a filled honeypot holds it (why, returned;
    nothing else asked, so a bot learns nothing); else the fill time and the captcha (forms/spam.py)."""
    spam = widget.config.spam
    assert spam is not None
    bait = (answers.honeypot or "").strip()
    if bait:
        REJECTIONS.labels("widget", "honeypot").inc()
        return f"the hidden field {spam.honeypot_field!r} people never see was filled in with {bait[:200]!r}"
    try:
        form_spam.check_fill_time(
            settings.form_token_secret, widget.channel.id, answers.ts or "", spam.min_fill_seconds,
            channel="widget", field="body.ts",
        )  # fmt: skip
        if spam.captcha is not None:
            await form_spam.check_captcha(
                _runtime(request).state.http, spam.captcha, answers.captcha or "", client_ip(request, settings),
                settings.captcha_timeout_seconds, channel="widget", field="body.captcha",
            )  # fmt: skip
    except form_spam.SpamRefusal as refusal:
        raise widget.refuse(refusal) from None
    return None


# Refusals the channel's own pre-chat form decides (what it asks, its topics): 409, naming the field.
PRE_CHAT_REQUIRED, PRE_CHAT_TOPIC = "pre_chat_required", "pre_chat_topic"


def _pre_chat(widget: _Widget, answers: ConversationStartIn) -> tokens.Visitor:
    """The visitor as the channel's pre-chat form asked them: every field it asks is required (a chat without
    one asks nothing, and has no topics)."""
    form = widget.config.pre_chat or PreChat()
    errors = [
        FieldError(field=f"body.{name}", message="this chat asks for it", code=PRE_CHAT_REQUIRED)
        for name, asked, given in (
            ("name", form.name, answers.name),
            ("email", form.email, answers.email),
            ("topic", bool(form.topics), answers.topic),
        )
        if asked and given is None
    ]
    if answers.topic is not None and answers.topic not in form.topics:
        errors.append(FieldError(field="body.topic", message="not one of this chat's topics", code=PRE_CHAT_TOPIC))
    if errors:
        REJECTIONS.labels("widget", "pre_chat").inc()
        raise widget.refuse(
            refusal("Answer the chat's questions first.", errors, conflicts={PRE_CHAT_REQUIRED, PRE_CHAT_TOPIC})
        )
    return tokens.Visitor(None, answers.email, answers.name, answers.topic)


@router.get(
    "/{channel_id}/hours",
    operation_id="get_widget_hours",
    summary="Whether the chat is answered live now (the widget asks when it opens and before a first message)",
    response_model=WidgetHoursOut,
    responses=problem_responses(*WIDGET_PROBLEMS),
)
async def get_widget_hours(
    channel_id: uuid.UUID, request: Request, origin: Annotated[str | None, Header()] = None
) -> JSONResponse:
    widget = await _widget(request, channel_id, origin)
    answer = WidgetHoursOut(away=await _runtime(request).state.widget.away(widget.channel))
    return JSONResponse(answer.model_dump(), headers={"Cache-Control": "no-store", **widget.cors})


@router.get(
    "/{channel_id}/conversation",
    operation_id="get_widget_conversation",
    summary="The visitor's conversation so far",
    response_model=WidgetTranscript,
    responses=problem_responses(*WIDGET_PROBLEMS, WidgetTokenInvalid, ServiceUnavailable),
)
async def get_widget_conversation(
    channel_id: uuid.UUID,
    request: Request,
    token: Annotated[str | None, Header(alias=TOKEN_HEADER, max_length=4096)] = None,
    after: Annotated[int, Query(ge=0, le=2**31 - 1, description="Only entries after this one.")] = 0,
    origin: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    widget = await _widget(request, channel_id, origin)
    conversation_id = _conversation(widget, token, request.app.state.settings)
    try:
        entries = await _runtime(request).state.widget.transcript(conversation_id, after)
    except STORAGE_ERRORS as error:
        raise widget.refuse(ServiceUnavailable("The conversation could not be read; try again.")) from error
    transcript = WidgetTranscript(conversation_id=conversation_id, entries=[WidgetEntry.of(e) for e in entries])
    return JSONResponse(transcript.model_dump(mode="json"), headers={"Cache-Control": "no-store", **widget.cors})


@router.post(
    "/{channel_id}/messages",
    status_code=201,
    operation_id="post_widget_message",
    summary="The visitor writes (acknowledged once stored; the same client_id again is the same message)",
    response_model=WidgetEntry,
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": body_schema(WidgetMessageIn)}}}
    },
    responses={
        200: {"model": WidgetEntry, "description": "Sent before with this client_id: the message as stored then."},
        **problem_responses(
            *WIDGET_PROBLEMS, WidgetTokenInvalid, MessageTooLong, ValidationFailed, RateLimited, ServiceUnavailable
        ),
    },
)
async def send_widget_message(
    channel_id: uuid.UUID,
    request: Request,
    token: Annotated[str | None, Header(alias=TOKEN_HEADER, max_length=4096)] = None,
    origin: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    widget = await _widget(request, channel_id, origin)
    settings: IntakeWebSettings = request.app.state.settings
    conversation = _held(widget, token, settings)
    try:
        body = await bounded_body(request, MAX_MESSAGE_BODY)
    except PayloadTooLarge as error:
        REJECTIONS.labels("widget", "too_large").inc()
        raise widget.refuse(MessageTooLong(error.detail)) from error
    try:
        message = WidgetMessageIn.model_validate_json(body)
    except ValidationError as error:
        raise _invalid(widget, error) from error
    posted = await _store_message(request, widget, conversation, message)
    return _posted(widget, posted)


def _upload_body() -> dict[str, Any]:
    """The upload's request body: a form of the message's fields and at least one file in ``attachments`` (the
    channel's ``max_attachments`` at most: stored state, so a 409 past it, not in the schema)."""
    fields = body_schema(WidgetUploadIn)
    files = {"type": "array", "items": {"type": "string", "format": "binary"}, "minItems": 1}
    form = {
        **fields,
        "properties": {**fields["properties"], "attachments": files},
        "required": [*fields.get("required", []), "attachments"],
    }
    return {"required": True, "content": {"multipart/form-data": {"schema": form}}}


FORM_TYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})
# The channel's own limit on files in one message: its stored configuration decides, so a 409 naming the field.
TOO_MANY_FILES = "too_many_files"


@router.post(
    "/{channel_id}/attachments",
    status_code=201,
    operation_id="post_widget_attachment",
    summary="The visitor sends files, with an optional line (over HTTP, never the socket; acknowledged once stored)",
    response_model=WidgetEntry,
    openapi_extra={"requestBody": _upload_body()},
    responses={
        200: {"model": WidgetEntry, "description": "Sent before with this client_id: the message as stored then."},
        **problem_responses(
            *WIDGET_PROBLEMS,
            WidgetTokenInvalid,
            BadRequest,
            PayloadTooLarge,
            MessageTooLong,
            UnsupportedMediaType,
            StateConflict,
            ValidationFailed,
            RateLimited,
            ServiceUnavailable,
        ),
    },
)
async def send_widget_attachment(
    channel_id: uuid.UUID,
    request: Request,
    token: Annotated[str | None, Header(alias=TOKEN_HEADER, max_length=4096)] = None,
    origin: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Files as a web form takes them: the channel's `max_attachment_bytes` a file (413) and `max_attachments` a
    message (409), each naming `body.attachments`; stored in the suite's blob store before the message that names
    them commits, and carried by its intake message (the case's message has them) as a form's are."""
    widget = await _widget(request, channel_id, origin)
    settings: IntakeWebSettings = request.app.state.settings
    conversation = _held(widget, token, settings)
    config = widget.config
    # A form without files (urlencoded) reaches the "no file" refusal naming the field; JSON carries none.
    if request.headers.get("content-type", "").split(";")[0].strip().lower() not in FORM_TYPES:
        REJECTIONS.labels("widget", "invalid").inc()
        raise widget.refuse(UnsupportedMediaType("Send the files as multipart/form-data, in `attachments`."))
    try:
        upload, files = await read_message_body(
            request,
            WidgetUploadIn,
            max_file_bytes=config.max_attachment_bytes,
            # One more than the channel takes reaches the count below (a 409 naming the field); more is the parser's.
            max_files=config.max_attachments + 1,
            title="The files are not valid.",
        )
    except PayloadTooLarge as error:
        REJECTIONS.labels("widget", "oversize").inc()
        raise widget.refuse(error) from error
    except ServiceError as error:
        REJECTIONS.labels("widget", "invalid").inc()
        raise widget.refuse(error) from error
    if not files:
        REJECTIONS.labels("widget", "invalid").inc()
        raise widget.refuse(
            ValidationFailed(
                "Send at least one file.",
                errors=[FieldError(field="body.attachments", message="no file", code="missing")],
            )
        )
    if len(files) > config.max_attachments:
        REJECTIONS.labels("widget", "too_many_files").inc()
        raise widget.refuse(
            refusal(
                f"This chat takes at most {config.max_attachments} files in a message.",
                [FieldError(field="body.attachments", message="too many files", code=TOO_MANY_FILES)],
                conflicts={TOO_MANY_FILES},
            )
        )
    try:
        stored = tuple(await store_uploads(_runtime(request).state.widget.blobs, files))
    except STORAGE_ERRORS as error:
        raise widget.refuse(
            ServiceUnavailable("The files could not be stored; send them again.", headers={"Retry-After": "5"})
        ) from error
    posted = await _store_message(request, widget, conversation, upload, stored)
    return _posted(widget, posted)


def _posted(widget: _Widget, posted: Posted) -> JSONResponse:
    """The stored entry: 201, or 200 with ``Idempotent-Replayed`` for a ``client_id`` stored before."""
    headers = {"Cache-Control": "no-store", **widget.cors}
    if posted.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(
        WidgetEntry.of(posted.entry).model_dump(mode="json"),
        status_code=200 if posted.replayed else 201,
        headers=headers,
    )


def _invalid(widget: _Widget, error: ValidationError, tag: str | None = None) -> ServiceError:
    """A malformed message (posted, or a socket frame tagged ``tag``): 422 naming each field as ``body.<field>``."""
    REJECTIONS.labels("widget", "invalid").inc()
    errors = [
        FieldError(
            field=".".join(["body", *map(str, e["loc"][1:] if tag and e["loc"][:1] == (tag,) else e["loc"])]),
            message=e["msg"],
            code=e["type"],
        )
        for e in error.errors()
    ]
    return widget.refuse(ValidationFailed("The message is not valid.", errors=errors))


async def _store_message(
    connection: HTTPConnection,
    widget: _Widget,
    conversation: tokens.Conversation,
    message: WidgetMessageIn | WidgetUploadIn,
    attachments: tuple[AttachmentRef, ...] = (),
) -> Posted:
    """The visitor's message stored (then, and only then, acknowledged), posted, over the socket or with files
    alike: the channel's length cap, the rate limits, the database away, each refused as the POST refuses it."""
    settings: IntakeWebSettings = connection.app.state.settings
    if len(message.text) > widget.config.max_message_chars:
        REJECTIONS.labels("widget", "too_long").inc()
        raise widget.refuse(
            MessageTooLong(
                f"The message has {len(message.text)} characters; this chat takes at most "
                f"{widget.config.max_message_chars}.",
                errors=[FieldError(field="body.text", message="too long", code="string_too_long")],
            )
        )
    try:
        return await _runtime(connection).state.widget.post(
            widget.channel, conversation, message.text, message.client_id, client_ip(connection, settings), attachments
        )
    except RateLimited as error:
        REJECTIONS.labels("widget", "rate").inc()
        raise widget.refuse(error) from error
    except STORAGE_ERRORS as error:
        raise widget.refuse(
            ServiceUnavailable("The message could not be stored; send it again.", headers={"Retry-After": "5"})
        ) from error


@router.post(
    "/{channel_id}/answered",
    operation_id="post_widget_answered",
    summary="Answers first: a suggested article answered the visitor's question (the chat ends with no case)",
    response_model=WidgetEntry,
    status_code=201,
    responses=problem_responses(
        *WIDGET_PROBLEMS, WidgetTokenInvalid, UnknownReference, NoArticlesShown, ValidationFailed, ServiceUnavailable
    ),
)
async def post_widget_answered(
    channel_id: uuid.UUID,
    body: WidgetAnswerIn,
    request: Request,
    token: Annotated[str | None, Header(alias=TOKEN_HEADER, max_length=4096)] = None,
    origin: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """knowledge records the Yes; a question held back ends with no case (counted in the article's deflection),
    one whose case opened first is solved by the article. The transcript ends the question."""
    return await _answer(
        request, channel_id, token, origin, lambda answers, cid: answers.answered(cid, body.article_id)
    )


@router.post(
    "/{channel_id}/handover",
    operation_id="post_widget_handover",
    summary="Answers first: the visitor wants to talk to someone (what they wrote becomes the case)",
    response_model=WidgetEntry,
    status_code=201,
    responses=problem_responses(*WIDGET_PROBLEMS, WidgetTokenInvalid, NoArticlesShown, ServiceUnavailable),
)
async def post_widget_handover(
    channel_id: uuid.UUID,
    request: Request,
    token: Annotated[str | None, Header(alias=TOKEN_HEADER, max_length=4096)] = None,
    origin: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    return await _answer(request, channel_id, token, origin, lambda answers, cid: answers.hand_over(cid))


async def _answer(
    request: Request,
    channel_id: uuid.UUID,
    token: str | None,
    origin: str | None,
    act: Callable[[WidgetAnswers, uuid.UUID], Awaitable[Entry]],
) -> JSONResponse:
    widget = await _widget(request, channel_id, origin)
    conversation_id = _conversation(widget, token, request.app.state.settings)
    try:
        entry = await act(_runtime(request).state.answers, conversation_id)
    except ServiceError as error:
        raise widget.refuse(error) from error
    except STORAGE_ERRORS as error:
        raise widget.refuse(ServiceUnavailable("The answer could not be stored; send it again.")) from error
    return JSONResponse(WidgetEntry.of(entry).model_dump(mode="json"), status_code=201, headers=widget.cors)


@router.post(
    "/{channel_id}/signals",
    status_code=204,
    operation_id="post_widget_signal",
    summary="The visitor is typing, or has read up to an entry (what the socket's frames say, without one)",
    response_class=Response,
    responses=problem_responses(*WIDGET_PROBLEMS, WidgetTokenInvalid, ValidationFailed, ServiceUnavailable),
)
async def post_widget_signal(
    channel_id: uuid.UUID,
    body: WidgetSignalIn,
    request: Request,
    token: Annotated[str | None, Header(alias=TOKEN_HEADER, max_length=4096)] = None,
    origin: Annotated[str | None, Header()] = None,
) -> Response:
    """The desk sees it on the case's chat (its live stream and `GET /api/v1/cases/{id}/chat`)."""
    widget = await _widget(request, channel_id, origin)
    conversation_id = _conversation(widget, token, request.app.state.settings)
    try:
        await _runtime(request).state.widget.signal(conversation_id, VISITOR, body.type, body.seq)
    except STORAGE_ERRORS as error:
        raise widget.refuse(ServiceUnavailable("The signal could not be stored.")) from error
    return Response(status_code=204, headers=widget.cors)


@router.get(
    "/{channel_id}/events",
    operation_id="get_widget_events",
    summary="The conversation live (server-sent events, resumable with Last-Event-ID)",
    response_class=StreamingResponse,
    responses={
        200: {"description": "An event stream.", "content": {EVENT_STREAM: {"schema": {"type": "string"}}}},
        **problem_responses(*WIDGET_PROBLEMS, WidgetTokenInvalid, NotAcceptable, ValidationFailed),
    },
)
async def stream_widget_events(
    channel_id: uuid.UUID,
    request: Request,
    token: Annotated[
        str | None, Query(max_length=4096, description="The conversation token (EventSource sends no headers).")
    ] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
    after: Annotated[
        int | None, Query(ge=0, le=2**31 - 1, description="Resume after this entry (a new EventSource).")
    ] = None,
    origin: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    widget = await _widget(request, channel_id, origin)
    if EVENT_STREAM not in request.headers.get("accept", ""):
        raise widget.refuse(NotAcceptable(f"This route answers {EVENT_STREAM} only: send Accept: {EVENT_STREAM}."))
    conversation_id = _conversation(widget, token, request.app.state.settings)
    resume = after or 0
    if last_event_id is not None and last_event_id.strip():
        if not last_event_id.strip().isdigit():
            raise widget.refuse(
                ValidationFailed(
                    "Last-Event-ID is not an id this stream gave out.",
                    errors=[FieldError(field="Last-Event-ID", message="an entry number", code="invalid")],
                )
            )
        resume = max(resume, int(last_event_id.strip()))
    return StreamingResponse(
        _frames(_runtime(request), conversation_id, resume),
        media_type=EVENT_STREAM,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no", **widget.cors},
    )


async def _frames(runtime: IntakeWebRuntime, conversation_id: uuid.UUID, after: int) -> AsyncIterator[bytes]:
    yield f"retry: {RECONNECT_MS}\n\n".encode()
    async for item in _live(runtime, conversation_id, after):
        if item is None:
            yield b": keep-alive\n\n"
        elif isinstance(item, Said):
            yield f"event: {item.signal}\ndata: {item.data()}\n\n".encode()
        else:
            data = WidgetEntry.of(item).model_dump_json()
            yield f"id: {item.seq}\nevent: message\ndata: {data}\n\n".encode()


@dataclass(frozen=True)
class Said:
    """The desk's side, told to the visitor: an agent is typing, or has read up to ``seq``."""

    signal: str
    seq: int

    def data(self) -> str:
        return json.dumps({"by": "agent", "seq": self.seq}, separators=(",", ":"))


async def _live(
    runtime: IntakeWebRuntime, conversation_id: uuid.UUID, after: int
) -> AsyncIterator[Entry | Said | None]:
    """The conversation's entries after ``after`` as they commit, and the desk's typing and read receipts as
    they change (None: a heartbeat with nothing new), until the stream's time is up; the same for the event
    stream and the socket."""
    settings = runtime.settings
    service = runtime.state.widget
    hub = service.hub
    woken = hub.watch(conversation_id)
    told_read, told_typing = 0, None
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + settings.widget_stream_max_seconds
        while deadline - loop.time() > 0:
            woken.clear()
            try:
                entries, signals = await service.live(conversation_id, after)
            except STORAGE_ERRORS:
                entries, signals = [], None  # the database is away: the next heartbeat reads again
            for entry in entries:
                after = entry.seq
                yield entry
            # The caller has sent them by now (a generator resumes once its item is handled): the visitor has
            # the desk's replies, which then go by no email.
            carried = [entry.seq for entry in entries if entry.direction == AGENT]
            if carried and signals is not None and signals.visitor_read_seq < carried[-1]:
                with contextlib.suppress(*STORAGE_ERRORS):
                    await service.seen(conversation_id, carried[-1])
            if signals is not None:
                if signals.agent_read_seq > told_read:
                    told_read = signals.agent_read_seq
                    yield Said("read", told_read)
                typed = signals.agent_typing_at
                if typed is not None and typed != told_typing and utcnow() - typed < TYPING_SHOWN:
                    told_typing = typed
                    yield Said("typing", signals.last_seq)
            if entries:
                continue
            # Quiet: a heartbeat now and then until woken. Each stream beats after its own share of the
            # heartbeat (half to all of it): streams opened together would otherwise beat together.
            while (remaining := deadline - loop.time()) > 0:
                quiet = settings.widget_heartbeat_seconds * JITTER.uniform(0.5, 1.0)
                try:
                    async with asyncio.timeout(min(quiet, remaining)):
                        await woken.wait()
                    break
                except TimeoutError:
                    yield None
                # While every commit wakes its streams (the hub's feed reads), a heartbeat reads nothing; a wake
                # may have been missed only while the feed is away, or the last read failed: read again then.
                if not hub.complete or signals is None:
                    break
    finally:
        hub.unwatch(conversation_id, woken)


# A refusal on the socket: it is accepted, then closed with 4000 + the status the same request over HTTP gets
# (4401 a bad token, 4403 a foreign site or a disabled widget, 4404 no such widget, 4503 unavailable) and the
# problem's slug as the reason, since a browser sees neither the status nor the body of a refused handshake.
SOCKET_REFUSAL_BASE = 4000
# Normal end of a socket's time (INTAKE_WEB_WIDGET_STREAM_MAX_SECONDS): the widget opens a new one and resumes.
SOCKET_TIME_UP = 4000


@router.websocket("/{channel_id}/socket")
async def widget_socket(
    websocket: WebSocket,
    channel_id: uuid.UUID,
    token: Annotated[str | None, Query(max_length=4096)] = None,
    after: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> None:
    """The conversation live over a WebSocket: ``{"type": "message", "entry"}`` per entry after ``after`` (the
    last ``seq`` the widget holds: a reconnect resumes exactly there), ``{"type": "typing"|"read", "by":
    "agent", "seq"}`` for the desk's side, ``{"type": "keep-alive"}`` when quiet. The visitor's frames: their
    messages (``{"type": "message", "text", "client_id"}``, each answered ``{"type": "ack", "client_id",
    "replayed", "entry"}`` once committed, or ``{"type": "refused", "client_id", "problem", "retry_after"?}``
    with the POST's problem+json) and their typing and read receipts. The same entries, order and resumption
    as the event stream."""
    await websocket.accept()
    try:
        widget = await _widget(websocket, channel_id, websocket.headers.get("origin"))
        conversation = _held(widget, token, websocket.app.state.settings)
    except ServiceError as error:
        await websocket.close(SOCKET_REFUSAL_BASE + error.status, error.slug)
        return
    runtime = _runtime(websocket)
    conversation_id = conversation.conversation_id
    sending_lock = asyncio.Lock()  # the live entries and the answers to the visitor's frames share the socket

    async def say(frame: str) -> None:
        async with sending_lock:
            await websocket.send_text(frame)

    async def send() -> None:
        async for item in _live(runtime, conversation_id, after):
            if item is None:
                await say('{"type":"keep-alive"}')
            elif isinstance(item, Said):
                await say(f'{{"type":"{item.signal}","by":"agent","seq":{item.seq}}}')
            else:
                await say('{"type":"message","entry":' + WidgetEntry.of(item).model_dump_json() + "}")
        await websocket.close(SOCKET_TIME_UP, "resume")

    async def receive() -> None:
        while (message := await websocket.receive())["type"] != "websocket.disconnect":
            raw = message.get("text") or message.get("bytes") or b""
            try:
                answer = await _socket_frame(websocket, widget, conversation, raw)
            except ServiceError as error:
                refused: dict[str, object] = {
                    "type": "refused",
                    "client_id": _client_id_of(raw),
                    "problem": problem_document(error),
                }
                if "Retry-After" in error.headers:
                    refused["retry_after"] = int(error.headers["Retry-After"])
                answer = json.dumps(refused, separators=(",", ":"))
            if answer is not None:
                await say(answer)

    sending, receiving = asyncio.create_task(send()), asyncio.create_task(receive())
    try:
        await asyncio.wait((sending, receiving), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sending, receiving):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
            await asyncio.gather(sending, receiving)


async def _socket_frame(
    websocket: WebSocket, widget: _Widget, conversation: tokens.Conversation, raw: str | bytes
) -> str | None:
    """What a visitor's frame does, and the frame that answers it (a message's ack; a signal has none)."""
    if len(raw) > MAX_MESSAGE_BODY:
        REJECTIONS.labels("widget", "too_large").inc()
        raise widget.refuse(MessageTooLong(f"A frame takes at most {MAX_MESSAGE_BODY} bytes."))
    try:
        frame = SocketFrameIn.validate_json(raw)
    except ValidationError as error:
        raise _invalid(widget, error, tag=_frame_type(raw)) from error
    if isinstance(frame, WidgetSignalIn):
        with contextlib.suppress(*STORAGE_ERRORS):  # a signal is not worth a retry
            await _runtime(websocket).state.widget.signal(conversation.conversation_id, VISITOR, frame.type, frame.seq)
        return None
    posted = await _store_message(websocket, widget, conversation, frame)
    entry = WidgetEntry.of(posted.entry).model_dump_json()
    replayed = "true" if posted.replayed else "false"
    return f'{{"type":"ack","client_id":{json.dumps(frame.client_id)},"replayed":{replayed},"entry":{entry}}}'


def _parsed(raw: str | bytes) -> dict[str, object]:
    with contextlib.suppress(ValueError):
        frame = json.loads(raw)
        if isinstance(frame, dict):
            return frame
    return {}


def _client_id_of(raw: str | bytes) -> str | None:
    """The client_id a refused frame carried, if it carried one the widget could have made (for its answer)."""
    if len(raw) > MAX_MESSAGE_BODY:
        return None
    client_id = _parsed(raw).get("client_id")
    return client_id if isinstance(client_id, str) and len(client_id) <= 100 else None


def _frame_type(raw: str | bytes) -> str | None:
    kind = _parsed(raw).get("type")
    return kind if isinstance(kind, str) else None
