"""Opaque list cursors: the id of the last item seen (ids are UUIDv7, so id order is creation order)."""

from __future__ import annotations

import base64
import uuid

from omnicase.kit.errors import BadRequest, FieldError


def encode_cursor(last_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(last_id.bytes).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> uuid.UUID | None:
    if not cursor:
        return None
    try:
        return uuid.UUID(bytes=base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError as error:
        raise BadRequest(
            "The cursor is not one this list handed out.",
            errors=[FieldError(field="query.cursor", message="not a cursor from a previous page", code="cursor")],
        ) from error
