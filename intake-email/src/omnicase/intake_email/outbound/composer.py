"""Build the RFC 5322 bytes of one outbound message (no I/O)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8
from email.utils import format_datetime, formataddr

# Header values must not smuggle extra headers in.
# Every line boundary Python's email package splits a header at (str.splitlines: CR, LF and the
# Unicode ones such as U+2028); a header value holding one is refused when the mail is built, and a
# case subject or a file name with one would keep its reply from ever being sent.
_FOLD = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")


@dataclass
class OutgoingAttachment:
    filename: str
    content_type: str
    content: bytes
    content_id: str | None = None
    inline: bool = False


@dataclass
class OutgoingMail:
    from_address: str
    from_name: str | None
    to: list[tuple[str | None, str]]
    subject: str
    text: str
    html: str | None
    message_id: str  # without angle brackets
    date: datetime
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    automatic: bool = False
    # RFC 3834: "auto-replied" answers a message; "auto-generated" (notifications) answers none.
    auto_submitted: str = "auto-replied"
    reply_to: str | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)
    attachments: list[OutgoingAttachment] = field(default_factory=list)


def _one_line(value: str) -> str:
    return _FOLD.sub(" ", value).strip()


def _bracket(message_id: str) -> str:
    message_id = _one_line(message_id).strip("<>")
    return f"<{message_id}>"


def _mailbox(name: str | None, address: str) -> str:
    """``Name <address>``; an address beyond ASCII (RFC 6531) as UTF-8, which formataddr refuses."""
    if address.isascii():
        return formataddr((_one_line(name or ""), address))
    display = _one_line(name or "").replace("\\", "\\\\").replace('"', '\\"')
    return f'"{display}" <{address}>' if display else address


def compose(mail: OutgoingMail) -> bytes:
    addresses = [mail.from_address, *(address for _, address in mail.to), *([mail.reply_to] if mail.reply_to else [])]
    # An internationalized address is sent as UTF-8 (the relay needs SMTPUTF8); ASCII mail stays 7-bit.
    message = EmailMessage(policy=SMTP if all(address.isascii() for address in addresses) else SMTPUTF8)
    message["From"] = _mailbox(mail.from_name, mail.from_address)
    message["To"] = ", ".join(_mailbox(name, address) for name, address in mail.to)
    message["Subject"] = _one_line(mail.subject)
    message["Date"] = format_datetime(mail.date)
    message["Message-ID"] = _bracket(mail.message_id)
    if mail.reply_to:
        message["Reply-To"] = _one_line(mail.reply_to)
    if mail.in_reply_to:
        message["In-Reply-To"] = _bracket(mail.in_reply_to)
    references = list(
        dict.fromkeys(_bracket(ref) for ref in [*mail.references, *([mail.in_reply_to] if mail.in_reply_to else [])])
    )
    if references:
        # RFC 5322 3.6.4: keep the first and the most recent when the chain is long.
        if len(references) > 20:
            references = [references[0], *references[-19:]]
        message["References"] = " ".join(references)
    if mail.automatic:
        # RFC 3834: machines must not answer this; Exchange honours the second header.
        message["Auto-Submitted"] = mail.auto_submitted
        message["X-Auto-Response-Suppress"] = "All"
    for name, value in mail.extra_headers.items():
        message[name] = _one_line(value)
    message.set_content(mail.text)
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html")
    inline = [attachment for attachment in mail.attachments if attachment.inline and attachment.content_id]
    if inline and mail.html is not None:
        html_part = message.get_body(("html",))
        assert isinstance(html_part, EmailMessage)
        html_part.make_related()
        for attachment in inline:
            maintype, _, subtype = _one_line(attachment.content_type).partition("/")
            html_part.add_related(
                attachment.content,
                maintype=maintype,
                subtype=subtype or "octet-stream",
                cid=_bracket(attachment.content_id or ""),
                filename=_one_line(attachment.filename),
            )
    for attachment in mail.attachments:
        if attachment in inline and mail.html is not None:
            continue
        maintype, _, subtype = _one_line(attachment.content_type).partition("/")
        message.add_attachment(
            attachment.content,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=_one_line(attachment.filename),
        )
    return message.as_bytes()
