"""Test helpers shared by case-core's tests (test modules cannot import each other or conftest)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.types import Receive, Scope, Send

from omnicase.kit.clock import utcnow
from omnicase.kit.events import Channel, EventData, MessageReceived, Party
from omnicase.kit.identity import IDENTITY_HEADER, Role, SubjectKind, sign_identity
from omnicase.kit.ids import uuid7

Deliver = Callable[[EventData], Awaitable[None]]
"""Hand one event to case-core's consumers, in one transaction, as the kit would."""

Published = Callable[..., Awaitable[list[tuple[str, dict[str, Any]]]]]
"""``(type, data)`` of the events case-core staged in its outbox, optionally for one key."""

Email = Callable[..., MessageReceived]


def inbound_email(
    sender: str,
    subject: str = "Printer on fire",
    text: str = "It is smoking.",
    *,
    message_id: str | None = None,
    in_reply_to: list[str] | None = None,
    references: list[str] | None = None,
    intake_id: uuid.UUID | None = None,
    name: str | None = None,
    **extra: Any,
) -> MessageReceived:
    """An email as intake-email would publish it (Message-IDs without angle brackets)."""
    return MessageReceived(
        intake_id=intake_id or uuid7(),
        channel=Channel.EMAIL,
        received_at=datetime.now(UTC),
        thread_key=sender,
        sender=Party(email=sender, name=name),
        subject=subject,
        text=text,
        message_id=message_id or f"{uuid.uuid4().hex}@mail.example",
        in_reply_to=in_reply_to or [],
        references=references or [],
        **extra,
    )


STAFF_SCOPES = frozenset({"cases:read", "cases:write", "cases:notes", "contacts:read", "contacts:write"})


def identity_headers(
    secret: str,
    *,
    role: Role = "admin",
    subject: str | None = None,
    scopes: frozenset[str] = STAFF_SCOPES,
    kind: SubjectKind = "user",
    contact_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
    organization_cases: bool = False,
) -> dict[str, str]:
    """The header the gateway would forward for this caller."""
    token = sign_identity(
        subject=subject or str(uuid.uuid4()),
        role=role,
        secret=secret,
        now=utcnow(),
        scopes=scopes,
        kind=kind,
        contact_id=contact_id,
        organization_id=organization_id,
        organization_cases=organization_cases,
    )
    return {IDENTITY_HEADER: token}


class WebhookReceiver:
    """An integrator's endpoint for tests (serve it with ``serve_http``): records each request
    and answers from a script of ``(status, headers)`` (and ``bodies``), then 200 once the script runs out."""

    def __init__(self, *answers: tuple[int, dict[str, str]], bodies: Sequence[bytes] = ()) -> None:
        self.answers = list(answers)
        # Bodies of the first answers (a stand-in for another service's API); then "ok" / "nope".
        self.bodies = list(bodies)
        self.requests: list[tuple[dict[str, str], bytes]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {key.decode().lower(): value.decode() for key, value in scope["headers"]}
        self.requests.append((headers, body))
        status, extra = self.answers.pop(0) if self.answers else (200, {})
        raw_headers = [(key.encode(), value.encode()) for key, value in extra.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        answer = self.bodies.pop(0) if self.bodies else (b"ok" if status < 300 else b"nope")
        await send({"type": "http.response.body", "body": answer})


async def cases_of(api: httpx.AsyncClient, requester_email: str) -> list[dict[str, Any]]:
    """The cases of the contact with this address (none: no such contact), newest first."""
    contacts = (await api.get("/api/v1/contacts", params={"q": requester_email})).json()["items"]
    if not contacts:
        return []
    items: list[dict[str, Any]] = (await api.get(f"/api/v1/contacts/{contacts[0]['id']}/cases")).json()["items"]
    return items


def auto_responses(events: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The acknowledgements among ``(type, data)`` of staged events."""
    return [data for kind, data in events if kind == "outbound.message_requested" and data["automatic"]]
