"""Cursor pagination for every list: ``?cursor=&limit=`` → ``{"items": [...], "next_cursor": ...}``.

A list route reads ``limit + 1`` rows after the cursor's key and hands them to
:func:`paginate`, which keeps ``limit`` of them and gives a next cursor only when the
extra row exists, so the last page says so itself (a client never fetches an empty page).
Each list has its page model as a subclass of :class:`Page` (``class CasePage(Page[Case])``),
so its schema keeps a name frontends read.

A cursor is the opaque, URL-safe encoding of the last item's sort key, so a page stays
stable while rows are added before it. A list hands out ``encode_cursor([position, id])``
and reads it back with ``decode_cursor(cursor, int, uuid.UUID)``, which converts each part
to its type; anything this API did not hand out (wrong shape, wrong types, garbage) is a
422 naming ``query.cursor``, like any other bad query parameter. An empty ``cursor`` is the
first page, as frontends that always send the parameter expect.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from omnicase.kit.errors import FieldError, ValidationFailed

T = TypeVar("T")
R = TypeVar("R")
P = TypeVar("P", bound="Page[Any]")

CursorQuery = Annotated[
    str | None,
    Query(max_length=500, description="`next_cursor` of the previous page; empty or absent for the first."),
]
LimitQuery = Annotated[int, Query(ge=1, le=200, description="Items per page, at most 200.")]


class Page(BaseModel, Generic[T]):
    # Both fields are always in a response: a generated client types next_cursor as string | null.
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    items: list[T]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for the next page; null at the end.")


def paginate(
    page: type[P],
    rows: Sequence[R],
    limit: int,
    *,
    key: Callable[[R], Sequence[Any]],
    item: Callable[[R], Any] | None = None,
    items: Sequence[Any] | None = None,
) -> P:
    """The page of ``rows`` (read as ``limit + 1`` after the cursor): ``limit`` items and the cursor after
    the last of them when a further row exists; ``key(row)`` is a row's sort key.

    The items are ``item(row)`` for each row kept, or ``items`` when the caller made them from
    ``rows[:limit]`` itself (in one query for the whole page, say), or the rows as they are.
    """
    kept = rows[:limit]
    more = len(rows) > limit and bool(kept)
    if items is None:
        items = [item(row) for row in kept] if item is not None else list(kept)
    elif len(items) != len(kept):
        raise ValueError(f"{len(items)} items for a page of {len(kept)} rows")
    return page(items=list(items), next_cursor=encode_cursor(key(kept[-1])) if more else None)


class InvalidCursor(ValidationFailed):
    slug, title = "invalid-cursor", "Invalid cursor"

    def __init__(self) -> None:
        super().__init__(
            "The cursor is not one this list handed out.",
            errors=[FieldError(field="query.cursor", message="not a cursor from a previous page", code="cursor")],
        )


def encode_cursor(key: Sequence[Any]) -> str:
    """The cursor after an item whose sort key is ``key`` (ids, timestamps and numbers)."""
    parts = [part.isoformat() if isinstance(part, datetime) else part for part in key]
    raw = json.dumps(parts, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _as_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(value)
    return value


def _as_str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(value)
    return value


def _as_uuid(value: Any) -> uuid.UUID:
    return uuid.UUID(_as_str(value))


def _as_datetime(value: Any) -> datetime:
    return datetime.fromisoformat(_as_str(value))


_CONVERTERS: dict[type, Callable[[Any], Any]] = {
    int: _as_int,
    str: _as_str,
    uuid.UUID: _as_uuid,
    datetime: _as_datetime,
}


def decode_cursor(cursor: str | None, *types: type) -> tuple[Any, ...] | None:
    """The sort key ``cursor`` carries, each part converted to ``types``; ``None`` for the first page."""
    if not cursor:
        return None
    try:
        parts = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidCursor() from None
    if not isinstance(parts, list) or len(parts) != len(types):
        raise InvalidCursor()
    try:
        return tuple(_CONVERTERS[kind](part) for kind, part in zip(types, parts, strict=True))
    except (TypeError, ValueError):
        raise InvalidCursor() from None


def decode_id_cursor(cursor: str | None) -> uuid.UUID | None:
    """The id a cursor of a list ordered by id carries."""
    key = decode_cursor(cursor, uuid.UUID)
    return None if key is None else key[0]
