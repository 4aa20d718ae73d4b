"""``GET /api/v1/stream``: server-sent events for consoles and portals; stream tickets for ``EventSource``."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from omnicase.gateway.access.authn import CurrentPrincipal, authenticate, bearer_token
from omnicase.gateway.identity.errors import InvalidBearer
from omnicase.gateway.identity.principal import Principal
from omnicase.gateway.metrics import REFUSED, STREAM_EVENTS, STREAMS_ENDED, STREAMS_OPEN
from omnicase.gateway.state import GatewayRuntime
from omnicase.gateway.stream import positions
from omnicase.gateway.stream.events import STREAMED, StreamEvent
from omnicase.gateway.stream.feed import Replay, StreamFeed, Subscriber
from omnicase.gateway.stream.tickets import issue_ticket, read_ticket
from omnicase.gateway.stream.viewers import Viewer, wanted
from omnicase.kit.clock import utcnow
from omnicase.kit.errors import (
    FieldError,
    Forbidden,
    ServiceError,
    ServiceUnavailable,
    ValidationFailed,
    problem_responses,
)
from omnicase.kit.identity import InvalidToken

router = APIRouter(tags=["stream"])

EVENT_STREAM = "text/event-stream"
# What a client waits before reconnecting after the stream ends (EventSource's `retry`).
RECONNECT_MS = 3000


class NotAcceptable(ServiceError):
    status, slug, title = 406, "not-acceptable", "Not acceptable"


class StreamTicket(BaseModel):
    ticket: str = Field(
        description="Pass as `?ticket=` to GET /api/v1/stream; valid once per connection until it expires."
    )
    expires_at: datetime


_STREAM_DESCRIPTION = f"""\
Server-sent events (`{EVENT_STREAM}`): what the caller may see, as it happens.

Each event has an `id`, an `event` (its type: {", ".join(f"`{name}`" for name in sorted(STREAMED))})
and one line of JSON `data`: `{{type, event_id, time, data}}`. Staff see case and SLA events whole
and the offers made to them; a customer sees their own cases (created, status or subject
changed, public messages) and nothing else.

Reconnect with `Last-Event-ID` (EventSource does) or `?last_event_id=` to resume without gaps
within the gateway's history (10 minutes by default); further back, the stream starts with
an event `reset` (reload what you show, then carry on). A comment line arrives at least
every 15 s. A stream ends after 15 minutes, or when its client falls far behind; reconnect
and resume.

`EventSource` cannot send headers: get a ticket from `POST /api/v1/stream/tickets` and pass it
as `?ticket=`.
"""


def _feed(request: Request) -> StreamFeed:
    runtime: GatewayRuntime = request.app.state.runtime
    feed = runtime.state.stream
    if feed is None:
        raise ServiceUnavailable("The live stream is switched off on this gateway (GATEWAY_STREAM_ENABLED).")
    if not feed.ready.is_set():
        raise ServiceUnavailable("The live stream is still starting; try again shortly.")
    return feed


async def _caller(request: Request, ticket: str | None) -> Principal:
    if bearer_token(request) is not None or ticket is None:
        principal = await authenticate(request)
    else:
        runtime: GatewayRuntime = request.app.state.runtime
        try:
            principal = read_ticket(ticket, runtime.settings.token_secret, utcnow())
        except InvalidToken as error:
            raise InvalidBearer(f"The stream ticket is not valid: {error}; ask for a new one.") from error
    if "cases:read" not in principal.scopes:
        REFUSED.labels("forbidden").inc()
        raise Forbidden("The live stream needs the cases:read scope.")
    return principal


def _types(raw: str | None) -> frozenset[str] | None:
    if raw is None or not raw.strip():
        return None
    names = frozenset(name.strip() for name in raw.split(",") if name.strip())
    unknown = sorted(names - STREAMED)
    if unknown:
        raise ValidationFailed(
            f"Unknown event types: {', '.join(unknown)}.",
            errors=[FieldError(field="types", message=f"one of {', '.join(sorted(STREAMED))}", code="enum")],
        )
    return names


def _resume(header: str | None, query: str | None) -> positions.Positions | None:
    raw = query if query is not None else header
    if raw is None or not raw.strip():
        return None
    resume = positions.decode(raw.strip())
    if resume is None:
        raise ValidationFailed(
            "Last-Event-ID is not an id this stream gave out.",
            errors=[FieldError(field="last_event_id", message="an event id from this stream", code="invalid")],
        )
    return resume


@router.get(
    "/api/v1/stream",
    operation_id="get_stream",
    summary="Live events the caller may see (server-sent events)",
    description=_STREAM_DESCRIPTION,
    response_class=StreamingResponse,
    responses={
        200: {"description": "An event stream.", "content": {EVENT_STREAM: {"schema": {"type": "string"}}}},
        **problem_responses(InvalidBearer, Forbidden, NotAcceptable, ValidationFailed, ServiceUnavailable),
    },
)
async def stream_events(
    request: Request,
    types: Annotated[
        str | None,
        Query(
            max_length=1000,
            description="Comma-separated event types to receive (default: all).",
            examples=["case.updated,offer.created"],
        ),
    ] = None,
    case_id: Annotated[uuid.UUID | None, Query(description="Only events about this case.")] = None,
    group_id: Annotated[uuid.UUID | None, Query(description="Only events about cases of this group.")] = None,
    ticket: Annotated[
        str | None, Query(max_length=4096, description="A stream ticket, for clients that cannot send Authorization.")
    ] = None,
    last_event_id: Annotated[
        str | None, Query(max_length=8192, description="Resume after this event id (for a new EventSource).")
    ] = None,
    last_event_id_header: Annotated[
        str | None, Header(alias="Last-Event-ID", max_length=8192, description="Resume after this event id.")
    ] = None,
) -> StreamingResponse:
    if EVENT_STREAM not in request.headers.get("accept", ""):
        raise NotAcceptable(f"This route answers {EVENT_STREAM} only: send Accept: {EVENT_STREAM}.")
    principal = await _caller(request, ticket)
    viewer = Viewer(principal)
    accepts = wanted(viewer, _types(types), case_id, group_id)
    resume = _resume(last_event_id_header, last_event_id)
    feed = _feed(request)
    runtime: GatewayRuntime = request.app.state.runtime
    subscriber, replay = feed.subscribe(accepts, resume)
    return StreamingResponse(
        _frames(feed, subscriber, replay, viewer, runtime),
        media_type=EVENT_STREAM,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _frames(
    feed: StreamFeed, subscriber: Subscriber, replay: Replay, viewer: Viewer, runtime: GatewayRuntime
) -> AsyncIterator[bytes]:
    settings = runtime.settings
    audience = "customer" if viewer.is_customer else "staff"
    STREAMS_OPEN.labels(audience).inc()
    ended = "client_gone"
    try:
        yield f"retry: {RECONNECT_MS}\n\n".encode()
        if replay.restart_at is not None:
            yield _frame(replay.restart_at, "reset", json.dumps({"reason": "history_gap"}))
        for missed in replay.events:
            yield _event(missed, viewer, audience)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + settings.stream_max_seconds
        while (remaining := deadline - loop.time()) > 0:
            try:
                async with asyncio.timeout(min(settings.stream_heartbeat_seconds, remaining)):
                    event = await subscriber.queue.get()
            except TimeoutError:
                yield b": keep-alive\n\n"
                continue
            if event is None:
                ended = "lagging" if subscriber.lagging else "shutdown"
                return
            yield _event(event, viewer, audience)
        ended = "max_duration"
    finally:
        feed.unsubscribe(subscriber)
        STREAMS_OPEN.labels(audience).dec()
        STREAMS_ENDED.labels(ended).inc()


def _event(event: StreamEvent, viewer: Viewer, audience: str) -> bytes:
    STREAM_EVENTS.labels(audience).inc()
    return _frame(event.position, event.type, viewer.data(event))


def _frame(event_id: str, name: str, data: str) -> bytes:
    # `data` is one line of JSON: json.dumps escapes every newline inside strings.
    return f"id: {event_id}\nevent: {name}\ndata: {data}\n\n".encode()


@router.post(
    "/api/v1/stream/tickets",
    operation_id="create_stream_ticket",
    summary="A short-lived ticket to open the stream from EventSource",
    status_code=201,
    response_model=StreamTicket,
    responses=problem_responses(InvalidBearer, Forbidden),
)
async def create_stream_ticket(request: Request, response: Response, principal: CurrentPrincipal) -> Any:
    """A ticket for `GET /api/v1/stream?ticket=…`, carrying the caller's identity for a minute."""
    response.headers["Cache-Control"] = "no-store"
    if "cases:read" not in principal.scopes:
        raise Forbidden("The live stream needs the cases:read scope.")
    runtime: GatewayRuntime = request.app.state.runtime
    now = utcnow()
    ttl = runtime.settings.stream_ticket_seconds
    return StreamTicket(
        ticket=issue_ticket(principal, runtime.settings.token_secret, now, ttl),
        expires_at=now + timedelta(seconds=ttl),
    )
