"""Outbound messages are composed with the headers that make them thread and not loop."""

from __future__ import annotations

import email.policy
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path

from omnicase.intake_email.outbound.composer import OutgoingAttachment, OutgoingMail, compose
from omnicase.intake_email.outbound.templates import TemplateRenderer, paragraphs


def parse(raw: bytes) -> EmailMessage:
    parsed = message_from_bytes(raw, _class=EmailMessage, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def mail(**fields: object) -> OutgoingMail:
    values: dict[str, object] = {
        "from_address": "support@acme.test",
        "from_name": "Acme Help",
        "to": [("Ada", "ada@example.org")],
        "subject": "Re: Printer [#42]",
        "text": "Hello",
        "html": "<p>Hello</p>",
        "message_id": "out-1@omnicase.local",
        "date": datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
    }
    values.update(fields)
    return OutgoingMail(**values)  # type: ignore[arg-type]


def test_headers_cannot_be_injected_through_names_or_subjects() -> None:
    raw = compose(mail(subject="Hi\r\nBcc: victim@example.org", from_name="Evil\nBcc: x@example.org"))
    message = parse(raw)
    assert message["Bcc"] is None
    assert message["Subject"] == "Hi Bcc: victim@example.org"


def test_a_line_break_of_any_kind_in_a_header_value_is_a_space_and_the_mail_is_built() -> None:
    # A subject with U+2028, a file name with a newline: the email package refused the header and the
    # reply was dead-lettered, never sent (found by schemathesis' stateful phase, issue 18).
    file = OutgoingAttachment(filename="bill\nMarch.pdf", content_type="application/pdf", content=b"%PDF")
    raw = compose(
        mail(subject="Printer\u2028on fire", in_reply_to="in-1@x\n", references=["r\r\n-1@x"], attachments=[file])
    )
    message = parse(raw)
    assert message["Subject"] == "Printer on fire"
    assert message["In-Reply-To"] == "<in-1@x>"
    assert [part.get_filename() for part in message.iter_attachments()] == ["bill March.pdf"]


def test_an_internationalized_address_goes_out_as_utf8_and_an_ascii_one_stays_7bit() -> None:
    raw = compose(mail(from_address="soporte@acmé.test", from_name='Ayuda "Acme"', to=[("Zoë", "zoë@example.org")]))
    assert 'From: "Ayuda \\"Acme\\"" <soporte@acmé.test>'.encode() in raw
    assert 'To: "Zoë" <zoë@example.org>'.encode() in raw
    assert compose(mail(from_name="Zoë")).isascii()


def test_long_reference_chains_keep_the_first_and_the_latest() -> None:
    chain = [f"m{index}@example.org" for index in range(40)]
    message = parse(compose(mail(references=chain, in_reply_to="m39@example.org")))
    references = message["References"].split()
    assert len(references) == 20
    assert references[0] == "<m0@example.org>"
    assert references[-1] == "<m39@example.org>"
    assert message["In-Reply-To"] == "<m39@example.org>"


def test_automatic_mail_is_marked_so_machines_do_not_answer_it() -> None:
    message = parse(compose(mail(automatic=True)))
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert parse(compose(mail()))["Auto-Submitted"] is None


def test_inline_images_travel_with_the_html_and_files_as_attachments() -> None:
    logo = OutgoingAttachment("logo.png", "image/png", b"\x89PNG...", content_id="logo@acme", inline=True)
    report = OutgoingAttachment("report.pdf", "application/pdf", b"%PDF-1.4")
    message = parse(compose(mail(html='<img src="cid:logo@acme">', attachments=[logo, report])))
    related = [part for part in message.walk() if part.get_content_type() == "multipart/related"]
    assert len(related) == 1
    [image] = [part for part in message.walk() if part.get_content_type() == "image/png"]
    assert image["Content-ID"] == "<logo@acme>"
    assert [part.get_filename() for part in message.iter_attachments()] == ["report.pdf"]


def test_brand_templates_override_only_what_they_define(tmp_path: Path) -> None:
    (tmp_path / "acme").mkdir()
    (tmp_path / "acme" / "reply.txt.j2").write_text("Acme says: {{ text }}\n")
    renderer = TemplateRenderer(str(tmp_path))
    context = {"subject": "s", "text": "Hi <b>Ada</b>", "html": None, "paragraphs": ["Hi <b>Ada</b>"]}
    text, html = renderer.render("reply", "acme", context)
    assert text == "Acme says: Hi <b>Ada</b>\n"
    assert html is not None
    assert "&lt;b&gt;Ada&lt;/b&gt;" in html  # the built-in HTML still applies, escaped
    other_text, _ = renderer.render("reply", "globex", context)
    assert other_text == "Hi <b>Ada</b>\n"


def test_plain_replies_become_html_paragraphs() -> None:
    assert paragraphs("One\nline two\n\n\nThree") == ["One\nline two", "Three"]
