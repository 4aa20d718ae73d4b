"""Slack's request signing, version 0 (https://api.slack.com/authentication/verifying-requests-from-slack).

Slack signs ``v0:{X-Slack-Request-Timestamp}:{raw body}`` with HMAC-SHA256 under the app's
signing secret and sends ``X-Slack-Signature: v0=<hex>``. A request is taken only when the
signature matches and its timestamp is within five minutes of our clock (either way), so a
captured request cannot be sent again later; within the window the endpoint remembers the
signatures it took (slack_seen) and refuses the same one twice.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

WINDOW_SECONDS = 300
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"


class BadSignature(Exception):
    """The request is not Slack's, or not now: the reason, for the problem's detail."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``v0=<hex>``: what Slack sends for ``body`` at ``timestamp``."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str | None, signature: str | None, body: bytes, now: datetime) -> None:
    """Raise :class:`BadSignature` unless ``signature`` is Slack's for ``body`` within the window."""
    if not timestamp or not signature:
        raise BadSignature(f"the request lacks {TIMESTAMP_HEADER} or {SIGNATURE_HEADER}")
    try:
        sent = int(timestamp)
    except ValueError:
        raise BadSignature(f"{TIMESTAMP_HEADER} is not a Unix time") from None
    if abs(now.timestamp() - sent) > WINDOW_SECONDS:
        raise BadSignature("the request's timestamp is more than five minutes from now")
    if not hmac.compare_digest(sign(secret, timestamp, body), signature):
        raise BadSignature("the signature does not match the body under the signing secret")
