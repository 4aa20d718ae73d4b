"""Opaque list cursors: the sort key of the last item returned plus its id."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any

from fastapi import Query

from omnicase.kit.errors import BadRequest

LimitQuery = Annotated[int, Query(ge=1, le=200, description="Page size.")]
CursorQuery = Annotated[str | None, Query(description="`next_cursor` of the previous page.")]


class InvalidCursor(BadRequest):
    slug, title = "invalid-cursor", "Invalid cursor"


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, length: int) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        values = None
    if not isinstance(values, list) or len(values) != length:
        raise InvalidCursor("The cursor is not one this list handed out.")
    return values
