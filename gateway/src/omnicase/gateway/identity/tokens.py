"""Token material: opaque secrets stored as sha256, and the signed access token.

- Refresh tokens (``ocr_…``) and API tokens (``oct_…``) are 256 random bits; only
  their sha256 is stored, so a database leak yields no usable token. A fast hash
  is right here (unlike passwords): the input is high-entropy, not guessable.
- Access tokens are JWTs (RFC 9068 ``typ`` ``at+jwt``, HS256 with the gateway's
  ``token_secret``). They are written with the kit's compact-JWS helpers rather
  than a JWT library: the format we issue and accept is one fixed shape, the
  helpers pin the algorithm (no ``none``, no key confusion) and take the kit
  clock, so expiry is testable without sleeping.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from omnicase.kit.identity import InvalidToken, hs256_decode, hs256_encode

REFRESH_PREFIX = "ocr_"
API_TOKEN_PREFIX = "oct_"
ACCESS_TOKEN_TYPE = "at+jwt"
ACCESS_AUDIENCE = "omnicase-api"
ISSUER = "omnicase-gateway"


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    expires_at: datetime


def issue_access_token(user_id: uuid.UUID, session_id: uuid.UUID, secret: str, now: datetime, ttl: int) -> str:
    issued = int(now.timestamp())
    claims = {
        "iss": ISSUER,
        "aud": ACCESS_AUDIENCE,
        "sub": str(user_id),
        "sid": str(session_id),
        "jti": secrets.token_hex(8),
        "iat": issued,
        "exp": issued + ttl,
    }
    return hs256_encode(claims, secret, typ=ACCESS_TOKEN_TYPE)


def read_access_token(token: str, secret: str, now: datetime) -> AccessClaims:
    """The claims of a valid access token, or :class:`InvalidToken`."""
    claims = hs256_decode(token, secret, typ=ACCESS_TOKEN_TYPE, now=now, audience=ACCESS_AUDIENCE)
    if claims.get("iss") != ISSUER:
        raise InvalidToken("token from an unknown issuer")
    try:
        return AccessClaims(
            user_id=uuid.UUID(str(claims["sub"])),
            session_id=uuid.UUID(str(claims["sid"])),
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )
    except (KeyError, ValueError) as error:
        raise InvalidToken("token claims are incomplete") from error
