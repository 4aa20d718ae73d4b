"""Cursors round-trip a list's sort key; every cursor of the published pattern is a position, anything else a 422."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import ClassVar

import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from omnicase.kit.app import name_page_schemas
from omnicase.kit.pagination import (
    Int16,
    Int32,
    InvalidCursor,
    Page,
    cursor_pattern,
    decode_cursor,
    decode_id_cursor,
    encode_cursor,
    next_page_query,
    paginate,
)


def test_a_cursor_gives_back_the_sort_key_it_was_made_from_in_its_types() -> None:
    key = (7, datetime(2026, 3, 29, 1, 30, 0, 123456, tzinfo=UTC), uuid.uuid4(), "Zürich office")
    cursor = encode_cursor(key)
    assert re.fullmatch(r"[0-9a-f.-]+", cursor), "URL-safe as it is"
    assert re.fullmatch(cursor_pattern(int, datetime, uuid.UUID, str), cursor), "the published pattern takes it"
    assert decode_cursor(cursor, int, datetime, uuid.UUID, str) == key


def test_no_cursor_or_an_empty_one_is_the_first_page() -> None:
    assert decode_cursor(None, int) is None
    assert decode_cursor("", int) is None
    assert decode_id_cursor("") is None
    assert re.fullmatch(cursor_pattern(int, uuid.UUID), ""), "the pattern says so too"


def test_an_id_cursor_round_trips() -> None:
    last = uuid.uuid4()
    assert decode_id_cursor(encode_cursor([last])) == last


def test_every_cursor_of_the_pattern_is_a_position_even_one_never_handed_out() -> None:
    assert decode_cursor("9999999999.00000000000000000000000000000000", Int32, uuid.UUID) == (
        2**31 - 1,
        uuid.UUID(int=0),
    )
    assert decode_cursor("-99999", Int16) == (-(2**15),)
    assert decode_cursor("999999999999999999", datetime) == (datetime.max.replace(tzinfo=UTC),)
    assert decode_cursor("-999999999999999999", datetime) == (datetime.min.replace(tzinfo=UTC),)
    assert decode_cursor("ff00", str) == ("\ufffd",), "bytes that are no UTF-8 (or a NUL) still make a text"


# A fixed id: parameters are the same in every collection (pytest-xdist compares them).
_ID = "0190c4a8f2e47d3c9b1a5e6f7d8c9b0a"


@pytest.mark.parametrize(
    "cursor",
    [
        "%%%",  # not the pattern at all
        "1",  # too short
        f"1.{_ID}.3",  # too long
        f"x.{_ID}",  # a position that is not a number
        "1.not-a-uuid",
        f"{'9' * 19}.{_ID}",  # more digits than a bigint holds
    ],
)
def test_a_cursor_outside_the_pattern_is_a_422_naming_the_cursor(cursor: str) -> None:
    assert re.fullmatch(cursor_pattern(int, uuid.UUID), cursor) is None
    with pytest.raises(InvalidCursor) as error:
        decode_cursor(cursor, int, uuid.UUID)
    assert error.value.status == 422
    assert [(item.field, item.code) for item in error.value.errors or []] == [("query.cursor", "cursor")]


Numbers = Page[int]


def test_a_page_read_one_row_beyond_the_limit_points_at_the_next() -> None:
    page = paginate(Numbers, [1, 2, 3], 2, key=lambda n: [n])
    assert page.items == [1, 2]
    assert page.next_cursor is not None
    assert decode_cursor(page.next_cursor, int) == (2,), "the next page starts after the last item shown"


def test_the_last_page_says_so_itself_even_when_it_is_exactly_full() -> None:
    assert paginate(Numbers, [1, 2], 2, key=lambda n: [n]).next_cursor is None
    assert paginate(Numbers, [], 2, key=lambda n: [n]) == Numbers(items=[], next_cursor=None)


def test_rows_become_items_and_a_client_always_gets_both_fields() -> None:
    page = paginate(Numbers, ["1", "2", "3"], 5, key=lambda s: [s], item=int)
    assert page == Numbers(items=[1, 2, 3], next_cursor=None)
    schema = Numbers.model_json_schema(mode="serialization")
    assert set(schema["required"]) == {"items", "next_cursor"}


class Ticket(BaseModel):
    page_name: ClassVar[str] = "TicketPage"
    id: int


class Note(BaseModel):
    page_name: ClassVar[str] = "NoteList"
    page_description: ClassVar[str] = "Notes, newest first."
    id: int


class Reply(Note):
    """Inherits its base's page_name, which names the base's page only."""


def test_a_page_schema_takes_the_name_its_item_gives_it_and_others_keep_pydantics() -> None:
    app = FastAPI()

    @app.get("/tickets")
    async def tickets() -> Page[Ticket]:
        return Page[Ticket](items=[])

    @app.get("/notes")
    async def notes() -> Page[Note]:
        return Page[Note](items=[])

    @app.get("/replies")
    async def replies() -> Page[Reply]:
        return Page[Reply](items=[])

    document = name_page_schemas(app.openapi())
    schemas = document["components"]["schemas"]
    assert {"TicketPage", "NoteList", "Page_Reply_"} <= set(schemas)
    assert not {"Page_Ticket_", "Page_Note_"} & set(schemas)
    assert list(schemas) == sorted(schemas), "in FastAPI's order"
    assert schemas["TicketPage"]["description"] == "A page of Ticket items."
    assert schemas["NoteList"]["description"] == "Notes, newest first."
    answer = document["paths"]["/tickets"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/TicketPage"}


def test_the_next_page_query_follows_a_page_read_over_http() -> None:
    assert next_page_query({"items": [1], "next_cursor": "7"}) == {"cursor": "7"}
    assert next_page_query({"items": [], "next_cursor": None}) is None
    assert next_page_query(None) is None
