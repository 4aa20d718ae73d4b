"""Take one raw message in: store it, classify it, publish it — in one transaction.

Every route (SMTP, webhook, IMAP) calls :meth:`IntakeService.receive` inside the
transaction whose commit is the sender's acknowledgement (SMTP 250, HTTP 2xx).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_email.inbound.blobs import BlobStore
from omnicase.intake_email.inbound.repository import RawMessageRepository
from omnicase.intake_email.mailboxes.repository import MailboxRepository
from omnicase.intake_email.mailboxes.schemas import Mailbox
from omnicase.intake_email.metrics import EMAIL_RECEIVED
from omnicase.intake_email.outbound.service import VERIFICATION_HEADER
from omnicase.intake_email.parsing.mime import ParsedAttachment, ParsedEmail
from omnicase.intake_email.parsing.noise import Noise, classify
from omnicase.intake_email.settings import IntakeEmailSettings
from omnicase.kit.clock import utcnow
from omnicase.kit.events import AttachmentRef, Channel, MessageReceived, Party
from omnicase.kit.ids import uuid7
from omnicase.kit.outbox import Outbox

Route = Literal["smtp", "webhook", "imap"]
Status = Literal["pending", "dropped", "suspended"]

# Kafka's default message limit is 1 MB; bodies beyond these stay in the raw source.
MAX_EVENT_TEXT = 200_000
MAX_EVENT_HTML = 400_000
_PASSED_HEADERS = {"x-omnicase-ref": "X-Omnicase-Ref", "auto-submitted": "Auto-Submitted"}
_HEADER_MESSAGE_ID = re.compile(rb"^Message-ID:\s*<([^<>\s]+)>", re.IGNORECASE | re.MULTILINE)


class NoSenderAddress(ValueError):
    """Neither the envelope nor the headers name a sender: nobody to answer, no thread."""


@dataclass(frozen=True)
class Inbound:
    raw: bytes
    route: Route
    envelope_from: str | None  # "" is the null sender <>
    envelope_to: list[str]
    peer: str | None = None


@dataclass(frozen=True)
class IntakeResult:
    intake_id: uuid.UUID
    mailbox: Mailbox
    duplicate: bool
    status: str
    reason: str | None = None


def count_received(route: Route, results: list[IntakeResult]) -> None:
    """Metrics, once the transaction that stored ``results`` has committed."""
    for result in results:
        EMAIL_RECEIVED.labels(route, "duplicate" if result.duplicate else result.status).inc()


def _dedupe_key(parsed: ParsedEmail, raw_sha256: str) -> str:
    return f"mid:{parsed.message_id[:900]}" if parsed.message_id else f"sha256:{raw_sha256}"


def _sender(parsed: ParsedEmail, envelope_from: str | None) -> str:
    address = parsed.from_address or (envelope_from or "").lower()
    if not address or "@" not in address:
        raise NoSenderAddress("the message names no sender address (no From header, null envelope sender)")
    return address[:320]


class IntakeService:
    def __init__(
        self, session: AsyncSession, *, outbox: Outbox, blobs: BlobStore, settings: IntakeEmailSettings, source: str
    ) -> None:
        self.session = session
        self.outbox = outbox
        self.blobs = blobs
        self.settings = settings
        self.source = source
        self.messages = RawMessageRepository(session)
        self.mailboxes = MailboxRepository(session)

    async def receive(self, inbound: Inbound, parsed: ParsedEmail, mailboxes: list[Mailbox]) -> list[IntakeResult]:
        """Store ``inbound`` once per addressed mailbox; raises :class:`NoSenderAddress`."""
        sender = _sender(parsed, inbound.envelope_from)
        raw_sha256 = hashlib.sha256(inbound.raw).hexdigest()
        dedupe_key = _dedupe_key(parsed, raw_sha256)
        noise = classify(parsed, envelope_from=inbound.envelope_from)
        results: list[IntakeResult] = []
        for mailbox in mailboxes:
            existing = await self.messages.find(mailbox.id, dedupe_key)
            if existing is not None:
                results.append(IntakeResult(existing.id, mailbox, True, existing.status, existing.reason))
                continue
            results.append(await self._store(inbound, parsed, mailbox, sender, raw_sha256, dedupe_key, noise))
        return results

    async def _is_verification(
        self, inbound: Inbound, parsed: ParsedEmail, mailbox: Mailbox, sender: str, now: datetime
    ) -> bool:
        token = (parsed.headers.get(VERIFICATION_HEADER.lower()) or [""])[0].strip()
        if not token:
            return False
        return await self.mailboxes.complete_verification(
            mailbox.id, token, route=inbound.route, received_from=inbound.envelope_from or sender, now=now
        )

    async def _disposition(
        self, inbound: Inbound, parsed: ParsedEmail, sender: str, noise: Noise
    ) -> tuple[Status, str | None]:
        now = utcnow()
        if await self.mailboxes.is_own_address(sender):
            return "dropped", f"sent from this system's own address {sender} (mail loop)"
        if noise.auto_generated:
            thread_ids = [*parsed.in_reply_to, *parsed.references]
            if noise.kind == "bounce":
                # A bounce names the mail it bounces only inside its attached headers.
                thread_ids += [found.decode("ascii", "replace") for found in _HEADER_MESSAGE_ID.findall(inbound.raw)]
            if await self.messages.case_of_thread(thread_ids) is None:
                return "dropped", f"{noise.kind} not in reply to any case: {noise.reason}"
        # Machines answering our mail count too: a runaway auto-responder is stopped here.
        suspension = await self.messages.suspension(sender, now)
        if suspension is not None:
            return "suspended", f"sender suspended until {suspension.suspended_until.isoformat()}: {suspension.reason}"
        window_start = now - timedelta(seconds=self.settings.sender_rate_window_seconds)
        recent = await self.messages.count_from_sender(sender, window_start)
        if recent >= self.settings.sender_rate_limit:
            until = now + timedelta(seconds=self.settings.sender_suspension_seconds)
            reason = (
                f"{recent + 1} messages within {self.settings.sender_rate_window_seconds}s "
                f"(limit {self.settings.sender_rate_limit})"
            )
            await self.messages.suspend(sender, until, reason, now)
            return "suspended", f"sender suspended until {until.isoformat()}: {reason}"
        return "pending", None

    async def _store(
        self,
        inbound: Inbound,
        parsed: ParsedEmail,
        mailbox: Mailbox,
        sender: str,
        raw_sha256: str,
        dedupe_key: str,
        noise: Noise,
    ) -> IntakeResult:
        now = utcnow()
        intake_id = uuid7()
        if await self._is_verification(inbound, parsed, mailbox, sender, now):
            status: Status = "dropped"
            reason: str | None = "mailbox verification message: the mailbox is verified"
        else:
            status, reason = await self._disposition(inbound, parsed, sender, noise)
        attachments = list(parsed.attachments)
        if parsed.errors and any(not error.startswith(("declared", "decoded")) for error in parsed.errors):
            # What could not be read stays readable to an agent in the original.
            attachments.append(ParsedAttachment("original.eml", "message/rfc822", inbound.raw))
        refs = [await self._store_attachment(attachment) for attachment in attachments]
        event = self._event(intake_id, inbound, parsed, mailbox, sender, refs, noise, now)
        stored = await self.messages.insert(
            {
                "id": intake_id,
                "mailbox_id": mailbox.id,
                "route": inbound.route,
                "received_at": now,
                "envelope_from": inbound.envelope_from,
                "envelope_to": inbound.envelope_to,
                "peer": inbound.peer,
                "raw": inbound.raw,
                "raw_sha256": raw_sha256,
                "message_id": parsed.message_id[:998] if parsed.message_id else None,
                "dedupe_key": dedupe_key,
                "thread_key": sender,
                "subject": parsed.subject,
                "status": status,
                "reason": reason,
                "noise": noise.kind,
                "parse_errors": parsed.errors,
                "event_data": event.model_dump(mode="json"),
                "published_count": 1 if status == "pending" else 0,
                "last_published_at": now if status == "pending" else None,
            }
        )
        if not stored:  # a concurrent delivery of the same message won the race
            existing = await self.messages.find(mailbox.id, dedupe_key)
            assert existing is not None
            return IntakeResult(existing.id, mailbox, True, existing.status, existing.reason)
        if status == "pending":
            await self.outbox.add(self.session, event, source=self.source, subject=str(intake_id), key=sender)
        return IntakeResult(intake_id, mailbox, False, status, reason)

    async def _store_attachment(self, attachment: ParsedAttachment) -> AttachmentRef:
        digest = await self.blobs.put(self.session, attachment.content)
        return AttachmentRef(
            sha256=digest,
            filename=attachment.filename,
            content_type=attachment.content_type[:200],
            size=len(attachment.content),
            content_id=attachment.content_id,
            inline=attachment.inline,
        )

    def _event(
        self,
        intake_id: uuid.UUID,
        inbound: Inbound,
        parsed: ParsedEmail,
        mailbox: Mailbox,
        sender: str,
        attachments: list[AttachmentRef],
        noise: Noise,
        now: Any,
    ) -> MessageReceived:
        html = parsed.html if parsed.html is not None and len(parsed.html) <= MAX_EVENT_HTML else None
        metadata: dict[str, Any] = {
            "mailbox_id": str(mailbox.id),
            "route": inbound.route,
            "source_url": f"/api/v1/mailboxes/-/messages/{intake_id}/source",
            "to": parsed.to,
            "cc": parsed.cc,
            "reply_to": parsed.reply_to,
            "quoted_text": parsed.quoted[:MAX_EVENT_TEXT],
            "signature": parsed.signature[:10_000],
        }
        passed_on = {name: values[0] for name, values in parsed.headers.items() if name in _PASSED_HEADERS and values}
        if passed_on:
            # case-core threads by our X-Omnicase-Ref even when the subject and body lost the marker.
            metadata["headers"] = {_PASSED_HEADERS[name]: value[:500] for name, value in passed_on.items()}
        if noise.kind:
            metadata["noise"] = {"kind": noise.kind, "reason": noise.reason}
        if noise.suppress_auto_response:
            metadata["auto_response_suppressed"] = True
        if parsed.errors:
            metadata["parse_errors"] = parsed.errors[:50]
        if parsed.security:
            metadata["security"] = parsed.security
        if parsed.html is not None and html is None:
            metadata["html_omitted"] = "larger than the event limit; read it from the source"
        if inbound.envelope_from == "":
            metadata["null_sender"] = True
        # case-core acknowledges the case this message opens (from its shared templates) only
        # when we say so: never machines, the null sender, or mail that asked for none.
        metadata["auto_response"] = bool(
            mailbox.auto_response
            and noise.kind is None
            and not noise.suppress_auto_response
            and inbound.envelope_from != ""
        )
        return MessageReceived(
            intake_id=intake_id,
            channel=Channel.EMAIL,
            received_at=now,
            thread_key=sender,
            sender=Party(email=sender, name=parsed.from_name),
            recipient=mailbox.address,
            subject=parsed.subject,
            text=parsed.text[:MAX_EVENT_TEXT],
            html=html,
            message_id=parsed.message_id,
            in_reply_to=parsed.in_reply_to,
            references=parsed.references[-100:],
            attachments=attachments,
            auto_generated=noise.auto_generated,
            defaults=mailbox.case_defaults(),
            metadata=metadata,
        )
