"""The signed timestamp a form carries, so the server can tell how long it took to fill in.

Format ``<unix ms>.<signature>``; the signature (HMAC-SHA256 over the time and the
form id) means a bot cannot post an old time to skip the minimum fill time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import UTC, datetime


def _signature(secret: str, millis: int, form_id: uuid.UUID) -> str:
    mac = hmac.new(secret.encode(), f"{millis}.{form_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode()


def issue(secret: str, form_id: uuid.UUID, now: datetime) -> str:
    millis = int(now.timestamp() * 1000)
    return f"{millis}.{_signature(secret, millis, form_id)}"


def issued_at(secret: str, form_id: uuid.UUID, token: str) -> datetime | None:
    """When the token was issued, or None if it is not one of ours for this form."""
    millis_text, _, signature = token.partition(".")
    if not millis_text.isdigit() or len(millis_text) > 16:
        return None
    millis = int(millis_text)
    if not hmac.compare_digest(signature.encode(), _signature(secret, millis, form_id).encode()):
        return None
    return datetime.fromtimestamp(millis / 1000, tz=UTC)
