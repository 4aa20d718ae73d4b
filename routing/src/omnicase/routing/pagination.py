"""Cursor pagination shared by every list: ``?cursor=&limit=`` → ``{items, next_cursor}``.

The cursor is the opaque, URL-safe encoding of the last item's sort key, so a page
stays stable while rows are added before it.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from omnicase.kit.errors import FieldError, ValidationFailed

T = TypeVar("T")

CursorQuery = Annotated[str | None, Query(description="`next_cursor` of the previous page.")]
LimitQuery = Annotated[int, Query(ge=1, le=200, description="Items per page.")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for the next page; null at the end.")


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, size: int) -> list[Any] | None:
    """The sort key a cursor carries; a cursor this API did not hand out is a 422."""
    if cursor is None:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        key = None
    if not isinstance(key, list) or len(key) != size:
        raise invalid_cursor()
    return key


def invalid_cursor() -> ValidationFailed:
    return ValidationFailed(
        "The cursor is not one this API handed out.",
        errors=[FieldError(field="query.cursor", message="unknown cursor", code="cursor")],
    )


def decode_id_cursor(cursor: str | None) -> uuid.UUID | None:
    """The id a single-id cursor carries (lists ordered by id)."""
    key = decode_cursor(cursor, 1)
    if key is None:
        return None
    try:
        return uuid.UUID(str(key[0]))
    except ValueError:
        raise invalid_cursor() from None
