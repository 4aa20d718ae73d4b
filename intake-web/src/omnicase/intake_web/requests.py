"""Reading public requests safely: a bounded body, the client address, what the caller wants back."""

from __future__ import annotations

import ipaddress

from fastapi import Request
from starlette.requests import HTTPConnection
from starlette.types import Message

from omnicase.intake_web.settings import IntakeWebSettings
from omnicase.kit.errors import PayloadTooLarge


async def bounded_body(request: Request, limit: int) -> bytes:
    """The whole body, refused with 413 past ``limit`` bytes (declared or actually sent)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request is larger than the {limit // (1024 * 1024) or 1} MB this endpoint accepts.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(
                f"The request is larger than the {limit // (1024 * 1024) or 1} MB this endpoint accepts."
            )
        chunks.append(chunk)
    return b"".join(chunks)


def replayed(request: Request, body: bytes) -> Request:
    """A copy of ``request`` whose body is ``body`` again (for Starlette's form parser)."""

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(request.scope, receive)


def client_ip(request: HTTPConnection, settings: IntakeWebSettings) -> str | None:
    """The visitor's address (of a request or a socket): the peer's, or the last X-Forwarded-For entry a
    trusted proxy appended."""
    peer = request.client.host if request.client else None
    forwarded = request.headers.get("x-forwarded-for", "").split(",")[-1].strip()
    if peer and forwarded and _trusted(peer, settings):
        try:
            return str(ipaddress.ip_address(forwarded))
        except ValueError:
            return peer
    return peer


def _trusted(peer: str, settings: IntakeWebSettings) -> bool:
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in network for network in settings.trusted_proxies)


def wants_html(request: Request) -> bool:
    """Browsers posting a form ask for HTML; API clients ask for JSON (or anything)."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept.split(",")[0]
