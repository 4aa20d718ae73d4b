"""The corpus of awkward real-world-style messages (tests/corpus) parses into what an agent needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from omnicase.intake_email.parsing.mime import ParsedEmail, parse_message

CORPUS = Path(__file__).parents[2] / "corpus"


def parse(name: str) -> ParsedEmail:
    return parse_message((CORPUS / name).read_bytes())


def names(parsed: ParsedEmail) -> list[str]:
    return [attachment.filename for attachment in parsed.attachments]


def test_alternative_prefers_the_plain_part_keeps_html_and_separates_the_quoted_history() -> None:
    parsed = parse("alternative.eml")
    assert (
        parsed.text == "Hello,\n\nthe invoice charges me twice for the same month \u2013 please fix it.\n\nThanks\nJane"
    )
    assert parsed.quoted.startswith("On Sun, 22 Nov 2026 at 10:00, Acme Support <support@acme.test> wrote:")
    assert "> your invoice is attached." in parsed.quoted
    assert "your invoice is attached" in parsed.full_text  # the original stays whole
    assert parsed.html is not None
    assert "<div>Hello,</div>" in parsed.html
    assert parsed.from_address == "jane.doe@example.org"
    assert parsed.from_name == "Doe, Jane"
    assert parsed.cc == ["boss@example.org"]
    assert parsed.message_id == "CAF=alt-1@mail.example.org"
    assert parsed.errors == []


def test_html_only_mail_becomes_readable_text_without_scripts_or_styles() -> None:
    parsed = parse("html_only.eml")
    assert parsed.text == (
        "Dear team,\n\nmy order #5567 never arrived. Café is closed \u2013 sadly.\n\n"
        "- Ordered: Monday\n- Paid: yes\n\nSee the order (https://example.org/order/5567)."
    )
    assert parsed.quoted == "> Your order has shipped.\n>"
    assert "alert" not in parsed.full_text
    assert "color:red" not in parsed.full_text


def test_related_inline_image_is_kept_with_its_content_id() -> None:
    parsed = parse("related_inline.eml")
    [image] = parsed.attachments
    assert image.content_type == "image/png"
    assert image.content_id == "shot1@example.org"
    assert image.inline is True
    assert image.content.startswith(b"\x89PNG")
    assert parsed.html is not None
    assert "cid:shot1@example.org" in parsed.html


def test_rfc2047_words_and_rfc2231_filenames_are_decoded_and_paths_stripped() -> None:
    parsed = parse("rfc2231_attachment.eml")
    assert parsed.subject == "Réclamation à propos der Lieferung ✓"
    assert parsed.from_name == "Jürgen Müller"
    assert names(parsed) == ["Rechnung März 2026.pdf", "passwd"]
    assert parsed.attachments[0].content.startswith(b"%PDF-1.4")
    assert parsed.text == "Anbei die Rechnung."
    assert parsed.signature == "Jürgen Müller\nMüller GmbH"


def test_forwarded_message_is_attached_whole_and_keeps_its_own_attachments() -> None:
    parsed = parse("forwarded.eml")
    assert parsed.text == "Forwarding the customer's mail, see attached."
    assert names(parsed) == ["Broken device.eml", "device.jpg"]
    forwarded = parse_message(parsed.attachments[0].content)
    assert forwarded.from_address == "carol@example.org"
    assert forwarded.text == "The device broke, photo attached."
    assert parsed.attachments[1].content.startswith(b"\xff\xd8\xff")  # the JPEG, decoded


@pytest.mark.parametrize(
    ("name", "text", "note"),
    [
        ("iso2022jp.eml", "こんにちは", None),
        ("koi8r.eml", "Здравствуйте, не работает принтер.", None),
        ("mislabelled_utf8.eml", "Crème brûlée for €5", "declared us-ascii, decoded as utf-8"),
        (
            "unknown_charset.eml",
            "Grüße aus Köln",
            "declared charset 'x-mac-klingon' did not decode; decoded as windows-1252",
        ),
    ],
)
def test_every_charset_decodes_and_mislabelled_ones_fall_back_gracefully(
    name: str, text: str, note: str | None
) -> None:
    parsed = parse(name)
    assert parsed.text == text
    assert parsed.errors == ([note] if note else [])


def test_iso_2022_jp_encoded_subject_is_decoded() -> None:
    assert parse("iso2022jp.eml").subject == "こんにちは"


def test_tnef_is_recognised_and_kept() -> None:
    parsed = parse("tnef.eml")
    assert parsed.security == ["tnef"]
    assert [(item.filename, item.content_type) for item in parsed.attachments] == [
        ("winmail.dat", "application/ms-tnef")
    ]
    assert parsed.text == "Please see the attachment."


def test_smime_signature_and_pgp_payloads_are_kept_as_attachments() -> None:
    signed = parse("smime_signed.eml")
    assert signed.security == ["smime"]
    assert signed.text == "Please reset my password."
    assert names(signed) == ["smime.p7s"]
    encrypted = parse("pgp_encrypted.eml")
    assert encrypted.security == ["pgp"]
    assert [item.content_type for item in encrypted.attachments] == [
        "application/pgp-encrypted",
        "application/octet-stream",
    ]
    assert b"BEGIN PGP MESSAGE" in encrypted.attachments[1].content


def test_outlook_reply_separates_new_text_mobile_signature_and_history() -> None:
    parsed = parse("outlook_reply.eml")
    assert parsed.text == "Yes, it works now. Thank you!"
    assert parsed.signature == "Sent from my iPhone"
    assert parsed.quoted.startswith("From: Acme Support <support@acme.test>")
    assert parsed.in_reply_to == ["abc@omnicase.local"]
    assert parsed.references == ["first@corp.example", "abc@omnicase.local"]


def test_broken_structure_keeps_what_can_be_read_and_says_what_could_not() -> None:
    parsed = parse("malformed_multipart.eml")
    assert parsed.text == "Hello world"
    assert names(parsed) == ["cut.pdf"]
    assert "CloseBoundaryNotFoundDefect" in parsed.errors
    assert any(error.startswith("InvalidBase64") for error in parsed.errors)


def test_garbage_never_raises_and_its_bytes_stay_readable() -> None:
    raw = (CORPUS / "garbage.eml").read_bytes()
    parsed = parse_message(raw)
    assert parsed.from_address is None
    assert "binary junk" in parsed.full_text
    assert parsed.errors  # said, not silently accepted


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\r\n\r\n",
        b"Content-Type: multipart/mixed\r\n\r\nno boundary",
        b'Content-Type: text/plain; charset="\r\n\r\nx',
        b"Subject: =?utf-8?B?!!!invalid?=\r\nFrom: <<<>>>\r\n\r\nhi",
        b"Content-Type: message/rfc822\r\n\r\n",
        b"Content-Type: multipart/mixed; boundary=a\r\n\r\n"
        + b"--a\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n" * 50,
    ],
)
def test_hostile_input_never_raises(raw: bytes) -> None:
    parsed = parse_message(raw)
    assert isinstance(parsed.text, str)
