"""The caller's identity, as the gateway vouches for it to the services.

The gateway authenticates every request (password login, refresh and API tokens)
and forwards what it verified in one header, :data:`IDENTITY_HEADER`: a compact
JWS (HS256) signed with the suite's ``internal_secret``, valid for a minute. A
service never sees the caller's own bearer token; it trusts this header only,
and a request that did not come through the gateway has no valid one.

Token contract (``typ`` ``omnicase-identity``, ``iss`` ``omnicase-gateway``,
``aud`` ``omnicase-services``):

- ``sub``: the user id, or the API token id for integrations (``kind``);
- ``role``: ``admin``, ``agent``, ``light_agent``, ``end_user`` for people,
  ``integration`` for API tokens (authorize those by ``scopes``);
- ``scopes``: what the caller may do (``cases:read``, ``cases:write`` …);
- ``agent_id`` (agents, light agents): routing's agent record;
- ``contact_id``, ``organization_id`` (end users): case-core's contact and its
  organization; ``organization_cases`` says whether the end user may see every
  case of that organization or only the ones they requested;
- ``iat``, ``exp``: seconds since the epoch; a small leeway absorbs clock skew.

Services adopt it with :data:`CurrentIdentity` in a route's parameters: absent,
forged or expired tokens are a 401 problem before the route runs. To refuse
every ``/api/`` request that did not come through the gateway, whatever the
route, wrap the app in :class:`RequireIdentityMiddleware` (``/public/``, health,
readiness, metrics and the OpenAPI document stay open); it also leaves the
verified :class:`Identity` in ``scope["state"]["identity"]``.

:func:`hs256_encode` / :func:`hs256_decode` are the compact-JWS primitives under
it, also used by the gateway for its own access tokens (with another secret and
another ``typ``, so one kind of token can never pass for the other).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from omnicase.kit.clock import utcnow
from omnicase.kit.errors import Forbidden, Unauthorized, error_response, problem_responses

# What any route behind the gateway's signed identity may answer besides its own problems.
AUTH_PROBLEMS = problem_responses(Unauthorized, Forbidden)

IDENTITY_HEADER = "X-Omnicase-Identity"
IDENTITY_TYPE = "omnicase-identity"
IDENTITY_ISSUER = "omnicase-gateway"
IDENTITY_AUDIENCE = "omnicase-services"
DEFAULT_TTL_SECONDS = 60
LEEWAY_SECONDS = 10

Role = Literal["admin", "agent", "light_agent", "end_user", "integration"]
SubjectKind = Literal["user", "api_token"]


class InvalidToken(Exception):
    """A token that is malformed, forged, of the wrong type, or out of its validity window."""


class Identity(BaseModel):
    """Who is calling, as verified by the gateway."""

    model_config = ConfigDict(frozen=True)

    subject: str = Field(description="User id, or API token id when kind is api_token.")
    kind: SubjectKind = "user"
    role: Role
    scopes: frozenset[str] = frozenset()
    name: str | None = None
    agent_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None
    organization_cases: bool = False
    expires_at: datetime

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as error:
        raise InvalidToken("malformed token") from error


def _signature(signing_input: bytes, secret: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), signing_input, hashlib.sha256).digest()


def hs256_encode(claims: dict[str, Any], secret: str, *, typ: str) -> str:
    """A compact JWS of ``claims`` signed with HMAC-SHA256."""
    header = _b64encode(json.dumps({"alg": "HS256", "typ": typ}, separators=(",", ":")).encode())
    payload = _b64encode(json.dumps(claims, separators=(",", ":"), default=str).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    return f"{header}.{payload}.{_b64encode(_signature(signing_input, secret))}"


def hs256_decode(token: str, secret: str, *, typ: str, now: datetime, audience: str | None = None) -> dict[str, Any]:
    """The verified claims of a compact HS256 JWS, or :class:`InvalidToken`.

    Only ``alg`` HS256 and the expected ``typ`` are accepted (no ``none``, no key
    confusion); ``exp`` is required, ``iat`` may not lie in the future, both with
    :data:`LEEWAY_SECONDS` of tolerance; ``aud`` must match when given.
    """
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise InvalidToken("malformed token")
    try:
        header = json.loads(_b64decode(parts[0]))
    except ValueError as error:
        raise InvalidToken("malformed token") from error
    if not isinstance(header, dict) or header.get("alg") != "HS256" or header.get("typ") != typ:
        raise InvalidToken("unexpected token type or algorithm")
    expected = _signature(f"{parts[0]}.{parts[1]}".encode("ascii"), secret)
    if not hmac.compare_digest(expected, _b64decode(parts[2])):
        raise InvalidToken("bad signature")
    try:
        claims = json.loads(_b64decode(parts[1]))
    except ValueError as error:
        raise InvalidToken("malformed token") from error
    if not isinstance(claims, dict):
        raise InvalidToken("malformed token")
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise InvalidToken("token has no expiry")
    moment = now.timestamp()
    if moment > exp + LEEWAY_SECONDS:
        raise InvalidToken("token expired")
    if isinstance(iat, int | float) and iat > moment + LEEWAY_SECONDS:
        raise InvalidToken("token issued in the future")
    if audience is not None and claims.get("aud") != audience:
        raise InvalidToken("token is for another audience")
    return claims


def sign_identity(
    *,
    subject: str,
    role: Role,
    secret: str,
    now: datetime,
    kind: SubjectKind = "user",
    scopes: frozenset[str] | set[str] | list[str] = frozenset(),
    name: str | None = None,
    agent_id: uuid.UUID | None = None,
    contact_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
    organization_cases: bool = False,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
) -> str:
    """The identity header value for one forwarded request."""
    issued = int(now.timestamp())
    claims: dict[str, Any] = {
        "iss": IDENTITY_ISSUER,
        "aud": IDENTITY_AUDIENCE,
        "sub": subject,
        "kind": kind,
        "role": role,
        "scopes": sorted(scopes),
        "iat": issued,
        "exp": issued + ttl_seconds,
        "organization_cases": organization_cases,
    }
    optional = {"name": name, "agent_id": agent_id, "contact_id": contact_id, "organization_id": organization_id}
    claims.update({key: str(value) for key, value in optional.items() if value is not None})
    return hs256_encode(claims, secret, typ=IDENTITY_TYPE)


def service_identity_headers(secret: str, service: str, scopes: frozenset[str]) -> dict[str, str]:
    """Headers for one service calling another's ``/api/`` route: the identity the gateway
    would sign for an integration, named after the calling service and holding ``scopes``."""
    token = sign_identity(
        subject=f"service:{service}",
        kind="api_token",
        role="integration",
        scopes=scopes,
        name=service,
        secret=secret,
        now=utcnow(),
    )
    return {IDENTITY_HEADER: token}


def verify_identity(token: str, secret: str, now: datetime) -> Identity:
    """The :class:`Identity` a gateway signed, or :class:`InvalidToken` saying why not."""
    claims = hs256_decode(token, secret, typ=IDENTITY_TYPE, now=now, audience=IDENTITY_AUDIENCE)
    if claims.get("iss") != IDENTITY_ISSUER:
        raise InvalidToken("token from an unknown issuer")
    try:
        return Identity(
            subject=claims["sub"],
            kind=claims.get("kind", "user"),
            role=claims["role"],
            scopes=frozenset(claims.get("scopes") or ()),
            name=claims.get("name"),
            agent_id=claims.get("agent_id"),
            contact_id=claims.get("contact_id"),
            organization_id=claims.get("organization_id"),
            organization_cases=bool(claims.get("organization_cases", False)),
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )
    except (KeyError, ValidationError) as error:
        raise InvalidToken("token claims are incomplete or invalid") from error


async def current_identity(request: Request) -> Identity:
    """FastAPI dependency: the verified identity of the request, or a 401 problem."""
    token = request.headers.get(IDENTITY_HEADER)
    if not token:
        raise Unauthorized("This service is reached through the gateway; the request carries no identity.")
    try:
        return verify_identity(token, request.app.state.settings.internal_secret, utcnow())
    except InvalidToken as error:
        raise Unauthorized(f"The request's identity is not valid: {error}.") from error


CurrentIdentity = Annotated[Identity, Depends(current_identity)]

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def area_access(area: str) -> Callable[[Request, Identity], Awaitable[Identity]]:
    """Router dependency: ``<area>:read`` to read, ``<area>:write`` for anything else.

    The gateway grants people their role's scopes and integrations their token's, so one
    check covers both; it repeats the gateway's own route check inside the service.
    """

    async def check(request: Request, identity: CurrentIdentity) -> Identity:
        needed = f"{area}:read" if request.method in READ_METHODS else f"{area}:write"
        if not identity.has_scope(needed):
            raise Forbidden(f"This needs the {needed} scope.")
        return identity

    return check


class RequireIdentityMiddleware:
    """Pure ASGI: a 401 problem for any ``/api/`` request without a valid gateway identity."""

    def __init__(self, app: ASGIApp, *, secret: str, protected_prefix: str = "/api/") -> None:
        self.app = app
        self.secret = secret
        self.protected_prefix = protected_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.protected_prefix):
            await self.app(scope, receive, send)
            return
        token = next((v.decode("latin-1") for k, v in scope["headers"] if k == IDENTITY_HEADER.lower().encode()), None)
        try:
            if not token:
                raise InvalidToken("the request carries no identity; this service is reached through the gateway")
            identity = verify_identity(token, self.secret, utcnow())
        except InvalidToken as error:
            response = error_response(Unauthorized(f"The request's identity is not valid: {error}."), scope["path"])
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["identity"] = identity
        await self.app(scope, receive, send)
