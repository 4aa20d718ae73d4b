"""Standard Webhooks signatures (https://www.standardwebhooks.com): what receivers verify.

Each request carries ``webhook-id`` (the same on every retry, so receivers deduplicate),
``webhook-timestamp`` (Unix seconds of this attempt, so receivers refuse replays) and
``webhook-signature``: ``v1,`` + base64 HMAC-SHA256 of ``{id}.{timestamp}.{body}`` under
the secret's bytes (the part after ``whsec_``, base64-decoded).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, message_id: str, timestamp: int, body: bytes, *also: str) -> dict[str, str]:
    """``also``: secrets that sign too (the previous one during a rotation), space-separated as the spec allows."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(key, message_id, timestamp, body) for key in (secret, *also)),
        "content-type": "application/json",
    }


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """True if any of the space-separated ``v1`` signatures matches (a receiver's check)."""
    expected = sign(secret, headers["webhook-id"], int(headers["webhook-timestamp"]), body)
    return any(hmac.compare_digest(expected, candidate) for candidate in headers["webhook-signature"].split(" "))
