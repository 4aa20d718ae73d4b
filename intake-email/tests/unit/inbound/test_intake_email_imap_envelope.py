"""The envelope sender of polled mail comes from the Return-Path the final server recorded."""

from __future__ import annotations

import pytest

from omnicase.intake_email.inbound.imap import envelope_sender_of


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"Return-Path: <Bounce+Ada@Example.org>\r\nFrom: a@b.c\r\n\r\nhi", "bounce+ada@example.org"),
        (b"Return-Path: <>\r\nFrom: MAILER-DAEMON@mx\r\n\r\nbounce", ""),  # the null sender stays null
        (b"From: a@b.c\r\n\r\nReturn-Path: <in-the-body@example.org>\r\n", None),  # headers only
        (b"From: a@b.c\n\nno return path", None),
    ],
)
def test_return_path_is_read_from_the_headers_only(raw: bytes, expected: str | None) -> None:
    assert envelope_sender_of(raw) == expected
