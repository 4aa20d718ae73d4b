"""Stream tickets: a minute-long credential for ``EventSource``, which cannot send headers.

A ticket carries the caller as the gateway verified them when it was asked for, signed
with the gateway's token secret (a ``typ`` of its own, so it is never taken for an access
token, nor an access token for it). It goes in the stream's URL, so it lives briefly and
opens nothing but the stream.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from omnicase.gateway.identity.principal import Principal
from omnicase.kit.identity import InvalidToken, Role, SubjectKind, hs256_decode, hs256_encode

TICKET_TYPE = "omnicase-stream-ticket"
TICKET_AUDIENCE = "omnicase-stream"


def issue_ticket(principal: Principal, secret: str, now: datetime, ttl: int) -> str:
    issued = int(now.timestamp())
    claims: dict[str, Any] = {
        "aud": TICKET_AUDIENCE,
        "sub": str(principal.subject),
        "kind": principal.kind,
        "role": principal.role,
        "scopes": sorted(principal.scopes),
        "name": principal.name,
        "agent": _text(principal.agent_id),
        "contact": _text(principal.contact_id),
        "org": _text(principal.organization_id),
        "org_cases": principal.organization_cases,
        "iat": issued,
        "exp": issued + ttl,
    }
    return hs256_encode(claims, secret, typ=TICKET_TYPE)


def read_ticket(ticket: str, secret: str, now: datetime) -> Principal:
    """The caller a valid ticket names, or :class:`InvalidToken`."""
    claims = hs256_decode(ticket, secret, typ=TICKET_TYPE, now=now, audience=TICKET_AUDIENCE)
    try:
        return Principal(
            subject=uuid.UUID(str(claims["sub"])),
            kind=cast(SubjectKind, claims["kind"]),
            role=cast(Role, claims["role"]),
            scopes=frozenset(str(scope) for scope in claims["scopes"]),
            name=str(claims["name"]),
            agent_id=_uuid(claims.get("agent")),
            contact_id=_uuid(claims.get("contact")),
            organization_id=_uuid(claims.get("org")),
            organization_cases=bool(claims.get("org_cases")),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidToken("ticket claims are incomplete") from error


def _text(value: uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None


def _uuid(value: Any) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None
