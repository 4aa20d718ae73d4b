"""Cursor pagination for every list: ``?cursor=&limit=`` → ``{"items": [...], "next_cursor": ...}``.

A list route reads ``limit + 1`` rows after the cursor's key and hands them to
:func:`paginate`, which keeps ``limit`` of them and gives a next cursor only when the
extra row exists, so the last page says so itself (a client never fetches an empty page).
Every list answers ``Page[Item]`` itself, never a page model of its own. An item may name its
page's schema (``page_name: ClassVar[str] = "CasePage"``, the names frontends have read since
before ``Page``; ``page_description`` its description); :func:`omnicase.kit.app.name_page_schemas` gives each
such schema its name in a service's document. Other pages keep pydantic's ``Page_Item_``.

A cursor is the last item's sort key written out part by part, ``.`` between the parts, so
a page stays stable while rows are added before it: a number in decimal, a timestamp as
microseconds since 1970 UTC, an id as 32 hex digits, a text as the hex of its UTF-8. A list
hands out ``encode_cursor([position, id])``, reads it back with ``decode_cursor(cursor,
Int32, uuid.UUID)`` and declares its parameter as ``Annotated[str | None,
cursor_query(Int32, uuid.UUID)]`` (``CursorQuery`` for a list ordered by id), from the same
types, so the document publishes the exact pattern of the cursors the list reads.

Every string of that pattern is a position in the list's order, handed out or not: a
cursor that points between or past the rows is the page after that point (possibly empty,
``next_cursor`` null), never an error; numbers beyond a column's range (``Int16``,
``Int32``) and times beyond a timestamp's are read as the range's end. A cursor outside the
pattern is a 422 naming ``query.cursor`` like any other bad query parameter; should a route
declare one pattern and read another, :class:`InvalidCursor` says so (the suite's contract
test then fails). An empty ``cursor`` is the first page, as frontends that always send the
parameter expect.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from omnicase.kit.errors import FieldError, ValidationFailed

T = TypeVar("T")
R = TypeVar("R")
P = TypeVar("P", bound="Page[Any]")

LimitQuery = Annotated[int, Query(ge=1, le=200, description="Items per page, at most 200.")]


class Page(BaseModel, Generic[T]):
    # No docstring: it would be the description of every page schema that names none.
    # Both fields are always in a response: a generated client types next_cursor as string | null.
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    items: list[T]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for the next page; null at the end.")

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        name = _page_name(params[0])
        return name if name is not None else super().model_parametrized_name(params)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        args = cls.__pydantic_generic_metadata__["args"]
        if args and _page_name(args[0]) is not None:
            cls.__doc__ = getattr(args[0], "page_description", f"A page of {args[0].__name__} items.")


def _page_name(item: Any) -> str | None:
    # Declared on the item's own class: a subclass's page is not its base's.
    name = vars(item).get("page_name") if isinstance(item, type) else None
    return name if isinstance(name, str) else None


PAGINATION = "cursor pagination (`?cursor=&limit=` → `{items, next_cursor}`)"
"""The convention in words, for documents that describe the suite."""


def next_page_query(answer: Any) -> dict[str, str] | None:
    """The query asking a list for the page after ``answer`` (a page as JSON), or None after the last page.

    For code that reads a list over HTTP (another service's, a demo's), page by page.
    """
    cursor = answer.get("next_cursor") if isinstance(answer, dict) else None
    return {"cursor": cursor} if isinstance(cursor, str) and cursor else None


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


class Int16(int):
    """A sort-key part held in a ``smallint`` column: a cursor's larger numbers read as its ends."""


class Int32(int):
    """A sort-key part held in an ``integer`` column: a cursor's larger numbers read as its ends."""


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_INT = r"-?[0-9]{1,18}"  # fits a bigint
_PATTERNS: dict[type, str] = {
    int: _INT,
    Int32: r"-?[0-9]{1,10}",
    Int16: r"-?[0-9]{1,5}",
    datetime: _INT,
    uuid.UUID: r"[0-9a-f]{32}",
    str: r"(?:[0-9a-f]{2})*",
}


def _clamp(low: int, high: int) -> Callable[[str], int]:
    return lambda text: min(max(int(text), low), high)


def _as_datetime(text: str) -> datetime:
    try:
        return _EPOCH + int(text) * _MICROSECOND
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC) if text.startswith("-") else datetime.max.replace(tzinfo=UTC)


def _as_str(text: str) -> str:
    # Any text is a position in a text order; PostgreSQL's text holds no NUL.
    return bytes.fromhex(text).decode(errors="replace").replace("\x00", "")


_DECODERS: dict[type, Callable[[str], Any]] = {
    int: int,
    Int32: _clamp(-(2**31), 2**31 - 1),
    Int16: _clamp(-(2**15), 2**15 - 1),
    datetime: _as_datetime,
    uuid.UUID: lambda text: uuid.UUID(hex=text),
    str: _as_str,
}


def cursor_pattern(*types: type) -> str:
    """The pattern of the cursors of a list whose sort key has parts of ``types`` (empty: the first page)."""
    return "^(?:" + r"\.".join(_PATTERNS[kind] for kind in types) + ")?$"


def cursor_query(*types: type) -> Any:
    """The ``cursor`` query parameter of a list whose sort key has parts of ``types``."""
    return Query(
        pattern=cursor_pattern(*types),
        max_length=2000,
        description="`next_cursor` of the previous page; empty or absent for the first.",
    )


CursorQuery = Annotated[str | None, cursor_query(uuid.UUID)]
"""The cursor of a list ordered by id."""


def _encode_part(part: Any) -> str:
    if isinstance(part, bool):
        raise TypeError(f"no cursor part for {part!r}")
    if isinstance(part, int):
        return str(part)
    if isinstance(part, datetime):
        aware = part if part.tzinfo is not None else part.replace(tzinfo=UTC)
        return str((aware - _EPOCH) // _MICROSECOND)
    if isinstance(part, uuid.UUID):
        return part.hex
    if isinstance(part, str):
        return part.encode().hex()
    raise TypeError(f"no cursor part for {part!r}")


def encode_cursor(key: Sequence[Any]) -> str:
    """The cursor after an item whose sort key is ``key`` (ids, timestamps, numbers and texts)."""
    return ".".join(_encode_part(part) for part in key)


def decode_cursor(cursor: str | None, *types: type) -> tuple[Any, ...] | None:
    """The sort key ``cursor`` carries, each part converted to ``types``; ``None`` for the first page."""
    if not cursor:
        return None
    if re.fullmatch(cursor_pattern(*types), cursor) is None:
        raise InvalidCursor()
    return tuple(_DECODERS[kind](part) for kind, part in zip(types, cursor.split("."), strict=True))


def decode_id_cursor(cursor: str | None) -> uuid.UUID | None:
    """The id a cursor of a list ordered by id carries."""
    key = decode_cursor(cursor, uuid.UUID)
    return None if key is None else key[0]
