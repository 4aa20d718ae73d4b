"""Webhook signatures: checking what providers and integrators send, signing what we send them.

- Standard Webhooks (https://www.standardwebhooks.com): ``webhook-id``,
  ``webhook-timestamp``, ``webhook-signature`` = space-separated ``v1,<base64>``
  of HMAC-SHA256 over ``id.timestamp.body`` with the key inside ``whsec_<base64>``.
- Meta (WhatsApp Cloud API, Messenger): ``X-Hub-Signature-256: sha256=<hex>`` of
  HMAC-SHA256 over the raw body with the app secret.
- SMS in Twilio's shape: ``X-Twilio-Signature`` = base64 HMAC-SHA1 over the full
  URL followed by every form parameter's name and value, sorted by name.

Every comparison is constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from datetime import datetime


class SignatureError(Exception):
    """The request is not provably from the configured sender; answered 401."""

    def __init__(self, detail: str, reason: str = "signature") -> None:
        super().__init__(detail)
        self.reason = reason


def hmac_equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _whsec_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def standard_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(_whsec_key(secret), signed, hashlib.sha256).digest()).decode()


def verify_standard(
    secrets: Iterable[str], headers: Mapping[str, str], body: bytes, now: datetime, tolerance_seconds: int
) -> str:
    """The webhook id of a correctly signed, timely request; :class:`SignatureError` otherwise."""
    msg_id = headers.get("webhook-id", "")
    timestamp_text = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if not msg_id or not timestamp_text or not signatures:
        raise SignatureError("webhook-id, webhook-timestamp and webhook-signature are required")
    if not timestamp_text.isdigit():
        raise SignatureError("webhook-timestamp is not a Unix time in seconds")
    timestamp = int(timestamp_text)
    if abs(now.timestamp() - timestamp) > tolerance_seconds:
        raise SignatureError(f"webhook-timestamp is more than {tolerance_seconds} s away from now", "timestamp")
    offered = [value for version, _, value in (s.partition(",") for s in signatures.split()) if version == "v1"]
    for secret in secrets:
        expected = standard_signature(secret, msg_id, timestamp, body).partition(",")[2].encode()
        if any(hmac.compare_digest(expected, candidate.encode()) for candidate in offered):
            return msg_id
    raise SignatureError("no signature matches")


def meta_signature(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def verify_meta(app_secret: str, header: str | None, body: bytes) -> None:
    if not header:
        raise SignatureError("X-Hub-Signature-256 is required")
    if not hmac.compare_digest(meta_signature(app_secret, body).encode(), header.strip().encode()):
        raise SignatureError("X-Hub-Signature-256 does not match")


def twilio_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    payload = url + "".join(name + value for name, value in sorted(params))
    return base64.b64encode(hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()).decode()


def verify_twilio(auth_token: str, header: str | None, url: str, params: Iterable[tuple[str, str]]) -> None:
    if not header:
        raise SignatureError("X-Twilio-Signature is required")
    if not hmac.compare_digest(twilio_signature(auth_token, url, params).encode(), header.strip().encode()):
        raise SignatureError("X-Twilio-Signature does not match")
