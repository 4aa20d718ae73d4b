"""Machine-written mail is recognised by the headers that say so."""

from __future__ import annotations

from pathlib import Path

import pytest

from omnicase.intake_email.parsing.mime import parse_message
from omnicase.intake_email.parsing.noise import classify

CORPUS = Path(__file__).parents[2] / "corpus"


def raw(headers: str, sender: str = "someone@example.org") -> bytes:
    return f"From: {sender}\r\nTo: support@acme.test\r\nSubject: hi\r\n{headers}\r\nbody\r\n".encode()


@pytest.mark.parametrize(
    ("headers", "sender", "kind"),
    [
        ("Auto-Submitted: auto-replied\r\n", "someone@example.org", "auto_reply"),
        ("Auto-Submitted: auto-generated\r\n", "someone@example.org", "auto_reply"),
        ("X-Autoreply: yes\r\n", "someone@example.org", "auto_reply"),
        ("Precedence: bulk\r\n", "someone@example.org", "bulk"),
        ("Precedence: junk\r\n", "someone@example.org", "bulk"),
        ("Precedence: list\r\n", "someone@example.org", "bulk"),
        ("List-Id: <news.example.org>\r\n", "someone@example.org", "bulk"),
        ("", "MAILER-DAEMON@mx.example.org", "bounce"),
        ("", "postmaster@example.org", "bounce"),
    ],
)
def test_machine_mail_is_classified(headers: str, sender: str, kind: str) -> None:
    noise = classify(parse_message(raw(headers, sender)), envelope_from=sender)
    assert noise.kind == kind
    assert noise.auto_generated
    assert noise.suppress_auto_response
    assert noise.reason


def test_delivery_status_report_is_a_bounce() -> None:
    noise = classify(parse_message((CORPUS / "dsn_bounce.eml").read_bytes()), envelope_from="")
    assert noise.kind == "bounce"


def test_null_envelope_sender_is_never_a_person_to_answer() -> None:
    noise = classify(parse_message(raw("")), envelope_from="")
    assert noise.auto_generated


def test_a_person_writing_is_not_noise_and_auto_submitted_no_is_a_person() -> None:
    assert classify(parse_message(raw("")), envelope_from="someone@example.org").kind is None
    assert classify(parse_message(raw("Auto-Submitted: no\r\n")), envelope_from="someone@example.org").kind is None


def test_exchange_suppression_header_asks_for_no_auto_response_without_being_noise() -> None:
    noise = classify(parse_message(raw("X-Auto-Response-Suppress: All\r\n")), envelope_from="someone@example.org")
    assert noise.kind is None
    assert noise.suppress_auto_response
