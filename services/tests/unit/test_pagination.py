"""Cursors round-trip a list's sort key; anything else is a 422 naming the cursor."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime

import pytest

from omnicase.kit.pagination import InvalidCursor, Page, decode_cursor, decode_id_cursor, encode_cursor, paginate


def _raw(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def test_a_cursor_gives_back_the_sort_key_it_was_made_from_in_its_types() -> None:
    key = (7, datetime(2026, 3, 29, 1, 30, tzinfo=UTC), uuid.uuid4(), "Zürich office")
    cursor = encode_cursor(key)
    assert not set(cursor) & set("=/+"), "URL-safe, no padding"
    assert decode_cursor(cursor, int, datetime, uuid.UUID, str) == key


def test_no_cursor_or_an_empty_one_is_the_first_page() -> None:
    assert decode_cursor(None, int) is None
    assert decode_cursor("", int) is None
    assert decode_id_cursor("") is None


def test_an_id_cursor_round_trips() -> None:
    last = uuid.uuid4()
    assert decode_id_cursor(encode_cursor([last])) == last


@pytest.mark.parametrize(
    "cursor",
    [
        "%%%",  # not base64
        "bm9wZQ",  # base64 of "nope", not JSON
        _raw({"position": 1}),  # not a list
        _raw([1]),  # too short
        _raw([1, str(uuid.uuid4()), 3]),  # too long
        _raw(["1", str(uuid.uuid4())]),  # a position that is not a number
        _raw([True, str(uuid.uuid4())]),  # JSON true is no position either
        _raw([1, "not-a-uuid"]),
    ],
)
def test_a_cursor_this_api_did_not_hand_out_is_a_422_naming_the_cursor(cursor: str) -> None:
    with pytest.raises(InvalidCursor) as error:
        decode_cursor(cursor, int, uuid.UUID)
    assert error.value.status == 422
    assert [(item.field, item.code) for item in error.value.errors or []] == [("query.cursor", "cursor")]


class Numbers(Page[int]):
    """A list's page model, as every list declares one."""


def test_a_page_read_one_row_beyond_the_limit_points_at_the_next() -> None:
    page = paginate(Numbers, [1, 2, 3], 2, key=lambda n: [n])
    assert page.items == [1, 2]
    assert page.next_cursor is not None
    assert decode_cursor(page.next_cursor, int) == (2,), "the next page starts after the last item shown"


def test_the_last_page_says_so_itself_even_when_it_is_exactly_full() -> None:
    assert paginate(Numbers, [1, 2], 2, key=lambda n: [n]).next_cursor is None
    assert paginate(Numbers, [], 2, key=lambda n: [n]) == Numbers(items=[], next_cursor=None)


def test_rows_become_items_and_the_page_keeps_its_name_in_the_schema() -> None:
    page = paginate(Numbers, ["1", "2", "3"], 5, key=lambda s: [s], item=int)
    assert page == Numbers(items=[1, 2, 3], next_cursor=None)
    schema = Numbers.model_json_schema(mode="serialization")
    assert schema["title"] == "Numbers"
    assert set(schema["required"]) == {"items", "next_cursor"}, "a client always gets both"
