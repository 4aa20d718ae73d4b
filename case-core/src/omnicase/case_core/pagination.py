"""Opaque list cursors: the sort key of the last item seen plus its id (stable ordering)."""

from __future__ import annotations

import base64
import json
from typing import Any

from omnicase.kit.errors import BadRequest, FieldError


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, length: int) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != length:
        raise BadRequest(
            "The cursor is not one this list handed out.",
            errors=[FieldError(field="query.cursor", message="invalid cursor", code="cursor")],
        )
    return values
