"""Parse a raw RFC 5322 message into what a case needs, never raising.

Everything that can be read is kept; what cannot is noted in ``errors`` so the
message still becomes a case (with its raw source attached) instead of vanishing.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parseaddr

from omnicase.intake_email.parsing.charsets import decode_text
from omnicase.intake_email.parsing.html_text import html_to_text
from omnicase.intake_email.parsing.quotes import split_reply
from omnicase.kit.inputs import email_key

_MSGID = re.compile(r"<([^<>\s]+)>")
_TNEF = {"application/ms-tnef", "application/vnd.ms-tnef"}
_SMIME = {
    "application/pkcs7-mime",
    "application/x-pkcs7-mime",
    "application/pkcs7-signature",
    "application/x-pkcs7-signature",
}
_PGP = {"application/pgp-encrypted", "application/pgp-signature", "application/pgp-keys"}
_MAX_DEPTH = 20
_REPORTS = {"message/delivery-status", "message/disposition-notification"}


@dataclass
class ParsedAttachment:
    filename: str
    content_type: str
    content: bytes
    content_id: str | None = None
    inline: bool = False

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass
class ParsedEmail:
    message_id: str | None = None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    subject: str | None = None
    from_address: str | None = None
    from_name: str | None = None
    reply_to: str | None = None
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    date: str | None = None
    text: str = ""  # the new text, visible to agents
    quoted: str = ""
    signature: str = ""
    full_text: str = ""
    html: str | None = None
    attachments: list[ParsedAttachment] = field(default_factory=list)
    headers: dict[str, list[str]] = field(default_factory=dict)  # lowercased name -> decoded values
    content_type: str = "text/plain"
    report_type: str | None = None
    security: list[str] = field(default_factory=list)  # smime, pgp, tnef
    errors: list[str] = field(default_factory=list)


def _decode_words(value: str) -> str:
    if "=?" not in value:
        return value  # no RFC 2047 encoded word: nothing to decode
    try:
        return str(make_header(decode_header(value)))
    except Exception:
        return value


def _clean(value: str) -> str:
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", value).replace("\r", "").replace("\n", " ").strip()


def _headers(message: Message) -> dict[str, list[str]]:
    # raw_items() never raises on malformed headers; decode RFC 2047 ourselves.
    headers: dict[str, list[str]] = {}
    for name, value in message.raw_items():
        headers.setdefault(name.lower(), []).append(_clean(_decode_words(str(value))))
    return headers


def _first(headers: dict[str, list[str]], name: str) -> str | None:
    values = headers.get(name)
    return values[0] if values else None


def _message_ids(value: str | None) -> list[str]:
    if not value:
        return []
    found = _MSGID.findall(value)
    if not found and value.strip() and " " not in value.strip():
        found = [value.strip().strip("<>")]
    return list(dict.fromkeys(found))


def _addresses(values: list[str] | None) -> list[str]:
    return [email_key(address) for _, address in getaddresses(values or []) if "@" in address]


def _safe_filename(name: str | None, content_type: str, index: int) -> str:
    if name:
        name = _clean(_decode_words(name)).replace("\\", "/").rsplit("/", 1)[-1].strip(". ")
    if not name:
        extension = mimetypes.guess_extension(content_type) or ".bin"
        name = f"attachment-{index}{extension}"
    return name[:255]


class _Walker:
    def __init__(self, parsed: ParsedEmail) -> None:
        self.parsed = parsed
        self.plain: list[str] = []
        self.html: list[str] = []

    def attach(self, part: Message, content: bytes, *, content_type: str, name: str | None = None) -> None:
        content_id_header = part.get("Content-ID")
        content_id = str(content_id_header).strip().strip("<>") if content_id_header else None
        disposition = part.get_content_disposition()
        filename = _safe_filename(name, content_type, len(self.parsed.attachments) + 1)
        self.parsed.attachments.append(
            ParsedAttachment(
                filename=filename,
                content_type=content_type,
                content=content,
                content_id=content_id or None,
                inline=bool(content_id) and disposition != "attachment",
            )
        )

    def walk(self, part: Message, *, depth: int = 0, forwarded: bool = False) -> None:
        if depth > _MAX_DEPTH:
            self.parsed.errors.append("MIME nesting too deep; the rest is in the raw source")
            return
        try:
            content_type = part.get_content_type()
        except Exception:
            content_type = "application/octet-stream"
        if content_type in _REPORTS:
            self._report(part, content_type)
            return
        if content_type == "message/rfc822" or (content_type.startswith("message/") and part.is_multipart()):
            self._message_part(part, depth, content_type)
            return
        if part.is_multipart():
            if content_type == "multipart/encrypted":
                self.parsed.security.append(
                    "pgp" if "pgp" in str(part.get("Content-Type", "")).lower() else "encrypted"
                )
            if content_type == "multipart/signed":
                protocol = str(part.get_param("protocol") or "").lower()
                self.parsed.security.append("pgp" if "pgp" in protocol else "smime")
            payload = part.get_payload()
            for sub in payload if isinstance(payload, list) else []:
                if isinstance(sub, Message):
                    self.walk(sub, depth=depth + 1, forwarded=forwarded)
            return
        self._leaf(part, content_type, forwarded)

    def _report(self, part: Message, content_type: str) -> None:
        """A DSN's or MDN's machine-readable part: kept whole as a text attachment."""
        payload = part.get_payload()
        if isinstance(payload, list):
            content = b"\n".join(
                block.as_bytes(policy=email.policy.SMTP) for block in payload if isinstance(block, Message)
            )
        else:
            content = str(payload).encode("utf-8", "replace")
        name = "delivery-status.txt" if content_type == "message/delivery-status" else "disposition-notification.txt"
        self.attach(part, content, content_type="text/plain", name=name)

    def _message_part(self, part: Message, depth: int, content_type: str) -> None:
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if not isinstance(inner, Message):
            self._leaf(part, "application/octet-stream", True)
            return
        subject = _clean(_decode_words(str(inner.get("Subject", "") or ""))) or "forwarded message"
        try:
            raw = inner.as_bytes(policy=email.policy.SMTP)
        except Exception:
            raw = bytes(inner.as_string(), "utf-8", errors="replace")
        name = part.get_filename() if hasattr(part, "get_filename") else None
        self.attach(part, raw, content_type="message/rfc822", name=name or f"{subject[:100]}.eml")
        # A forwarded mail keeps its attachments; its text stays inside the .eml.
        self.walk(inner, depth=depth + 1, forwarded=True)

    def _leaf(self, part: Message, content_type: str, forwarded: bool) -> None:
        try:
            content = part.get_payload(decode=True)
        except Exception as error:
            self.parsed.errors.append(f"undecodable {content_type} part: {error}")
            raw_payload = part.get_payload()
            content = raw_payload.encode("utf-8", "replace") if isinstance(raw_payload, str) else b""
        if not isinstance(content, bytes):
            content = b""
        for defect in part.defects:
            self.parsed.errors.append(f"{type(defect).__name__} in {content_type} part")
        try:
            name = part.get_filename()
        except Exception:
            name = None
        disposition = part.get_content_disposition()
        if content_type in _TNEF or (name or "").lower() == "winmail.dat":
            self.parsed.security.append("tnef")
            self.attach(part, content, content_type="application/ms-tnef", name=name or "winmail.dat")
            return
        if content_type in _SMIME:
            self.parsed.security.append("smime")
        elif content_type in _PGP:
            self.parsed.security.append("pgp")
        is_body = (
            content_type in ("text/plain", "text/html") and disposition != "attachment" and not name and not forwarded
        )
        if not is_body:
            if forwarded and content_type in ("text/plain", "text/html") and not name and disposition != "attachment":
                return  # a forwarded mail's own text: readable inside its .eml attachment
            self.attach(part, content, content_type=content_type, name=name)
            return
        text, note = decode_text(content, part.get_content_charset())
        if note:
            self.parsed.errors.append(note)
        (self.html if content_type == "text/html" else self.plain).append(text)


def parse_message(raw: bytes) -> ParsedEmail:
    """Everything readable in ``raw``; problems are listed in ``errors``, never raised."""
    parsed = ParsedEmail()
    try:
        # compat32 (the default) rather than policy.default: this module reads headers raw and
        # decodes them itself, and the header registry's objects cost four times the whole parse.
        message = email.message_from_bytes(raw)
    except Exception as error:  # the parser is lenient; keep this for truly hostile input
        parsed.errors.append(f"unparseable message: {error}")
        parsed.text = raw.decode("utf-8", errors="replace")[:100_000]
        parsed.full_text = parsed.text
        return parsed
    for defect in message.defects:
        parsed.errors.append(type(defect).__name__)
    headers = _headers(message)
    parsed.headers = headers
    parsed.subject = _first(headers, "subject")
    from_name, from_address = parseaddr(_first(headers, "from") or "")
    parsed.from_address = email_key(from_address) if "@" in from_address else None
    parsed.from_name = from_name or None
    if _first(headers, "from") and parsed.from_address is None:
        parsed.errors.append("From header has no readable address")
    _, reply_to = parseaddr(_first(headers, "reply-to") or "")
    parsed.reply_to = email_key(reply_to) if "@" in reply_to else None
    parsed.to = _addresses(headers.get("to"))
    parsed.cc = _addresses(headers.get("cc"))
    parsed.date = _first(headers, "date")
    ids = _message_ids(_first(headers, "message-id"))
    parsed.message_id = ids[0] if ids else None
    parsed.in_reply_to = _message_ids(_first(headers, "in-reply-to"))
    parsed.references = _message_ids(" ".join(headers.get("references", [])))
    try:
        parsed.content_type = message.get_content_type()
        parsed.report_type = (str(message.get_param("report-type") or "") or None) if message.is_multipart() else None
    except Exception:
        parsed.errors.append("unreadable Content-Type")
    walker = _Walker(parsed)
    try:
        walker.walk(message)
    except Exception as error:
        parsed.errors.append(f"MIME structure could not be fully read: {error}")
    parsed.security = list(dict.fromkeys(parsed.security))
    parsed.html = "\n".join(walker.html) if walker.html else None
    if walker.plain:
        full = "\n\n".join(text.strip("\n") for text in walker.plain)
    elif walker.html:
        full = html_to_text(parsed.html or "")
    else:
        full = ""
    parsed.full_text = full
    split = split_reply(full)
    parsed.text, parsed.quoted, parsed.signature = split.new, split.quoted, split.signature
    parsed.errors = list(dict.fromkeys(parsed.errors))
    return parsed


# Below this, parsing takes well under a millisecond: less than handing the mail to a thread.
PARSE_INLINE_BYTES = 64 * 1024


async def parse_without_blocking(raw: bytes) -> ParsedEmail:
    """:func:`parse_message` in a thread for a large mail (the loop keeps serving), inline for a small one."""
    if len(raw) <= PARSE_INLINE_BYTES:
        return parse_message(raw)
    return await asyncio.to_thread(parse_message, raw)
