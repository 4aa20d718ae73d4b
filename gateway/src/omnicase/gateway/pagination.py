"""Cursor pagination of the gateway's own lists (the suite's ``{items, next_cursor}`` shape)."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Annotated

from fastapi import Query

from omnicase.kit.errors import FieldError, ValidationFailed

CursorQuery = Annotated[str | None, Query(description="Opaque cursor from the previous page's `next_cursor`.")]
LimitQuery = Annotated[int, Query(ge=1, le=100, description="Page size, at most 100.")]


def encode_cursor(last_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(last_id.bytes).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str | None) -> uuid.UUID | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return uuid.UUID(bytes=raw)
    except (binascii.Error, ValueError) as error:
        raise ValidationFailed(
            "The cursor is not one this API handed out.",
            errors=[FieldError(field="query.cursor", message="invalid cursor", code="cursor")],
        ) from error
