"""Take one raw message in: store it, classify it, publish it — in one transaction.

Every route (SMTP, webhook, IMAP) stores a message in a transaction whose commit is the
sender's acknowledgement (SMTP 250, HTTP 2xx). Whatever the number of recipients and
attachments it takes a handful of statements: one read of everything the decision needs
(copies already stored, own address, suspension, the sender's recent count), one
multi-row insert of the messages, one of their outbox rows. The common message (one
mailbox, nothing more to decide) takes two: the read, and the copy with its event written
as one statement (:func:`receive`).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_email.inbound.repository import IntakeFacts, RawMessageRepository, store_copy
from omnicase.intake_email.mailboxes.repository import MailboxRepository
from omnicase.intake_email.mailboxes.schemas import Mailbox
from omnicase.intake_email.metrics import EMAIL_RECEIVED
from omnicase.intake_email.outbound.service import VERIFICATION_HEADER
from omnicase.intake_email.parsing.mime import ParsedAttachment, ParsedEmail
from omnicase.intake_email.parsing.noise import Noise, classify
from omnicase.intake_email.settings import IntakeEmailSettings
from omnicase.kit.blobs import BlobStore
from omnicase.kit.clock import utcnow
from omnicase.kit.db import Database
from omnicase.kit.events import AttachmentRef, Channel, HoldReason, MessageHeld, MessageReceived, Party
from omnicase.kit.ids import uuid7
from omnicase.kit.inputs import email_key
from omnicase.kit.outbox import Outbox

Route = Literal["smtp", "webhook", "imap"]
Status = Literal["pending", "dropped", "suspended"]
# A copy's status, why, and (for a message held back rather than discarded) the kit's hold reason.
Disposition = tuple[Status, str | None, HoldReason | None]

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
    address = parsed.from_address or email_key(envelope_from or "")
    if not address or "@" not in address:
        raise NoSenderAddress("the message names no sender address (no From header, null envelope sender)")
    return address[:320]


@dataclass(frozen=True)
class PlannedCopy:
    """A copy decided on its facts alone: its row, what storing it answers, its event."""

    row: dict[str, Any]
    result: IntakeResult
    event: MessageReceived
    sender: str


async def receive(
    database: Database,
    inbound: Inbound,
    parsed: ParsedEmail,
    mailboxes: list[Mailbox],
    *,
    outbox: Outbox,
    blobs: BlobStore,
    settings: IntakeEmailSettings,
    source: str,
) -> list[IntakeResult]:
    """Store ``inbound`` once per addressed mailbox, committed when this returns; raises
    :class:`NoSenderAddress`. A message for one mailbox that needs nothing more than its
    facts takes two round trips, each its own transaction (:meth:`IntakeService.plan_alone`,
    then :meth:`Outbox.write_alone`); any other, one unit of work (:meth:`IntakeService.receive`)."""
    if len(mailboxes) == 1:
        async with database.statements_alone() as session:
            alone = IntakeService(session, outbox=outbox, blobs=blobs, settings=settings, source=source)
            planned = await alone.plan_alone(inbound, parsed, mailboxes[0])
        # Written on a connection of its own once the read's is back in the pool.
        if planned is not None and await outbox.write_alone(
            database,
            store_copy(tuple(planned.row)),
            planned.row,
            planned.event,
            source=source,
            subject=str(planned.result.intake_id),
            key=planned.sender,
        ):
            return [planned.result]
        # Not written: a concurrent delivery stored its copy first, which the unit of work finds.
    async with database.unit_of_work() as session:
        service = IntakeService(session, outbox=outbox, blobs=blobs, settings=settings, source=source)
        return await service.receive(inbound, parsed, mailboxes)


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
        if not mailboxes:
            return []
        raw_sha256 = hashlib.sha256(inbound.raw).hexdigest()
        dedupe_key = _dedupe_key(parsed, raw_sha256)
        noise = classify(parsed, envelope_from=inbound.envelope_from)
        now = utcnow()
        window_start = now - timedelta(seconds=self.settings.sender_rate_window_seconds)
        facts = await self.messages.intake_facts([m.id for m in mailboxes], dedupe_key, sender, now, window_start)
        new = [mailbox for mailbox in mailboxes if mailbox.id not in facts.stored]
        stored: dict[uuid.UUID, IntakeResult] = {
            mailbox.id: IntakeResult(copy.id, mailbox, True, copy.status, copy.reason)
            for mailbox in mailboxes
            if (copy := facts.stored.get(mailbox.id)) is not None
        }
        if new:
            for result in await self._store(inbound, parsed, new, sender, raw_sha256, dedupe_key, noise, facts, now):
                stored[result.mailbox.id] = result
        return [stored[mailbox.id] for mailbox in mailboxes]

    async def plan_alone(self, inbound: Inbound, parsed: ParsedEmail, mailbox: Mailbox) -> PlannedCopy | None:
        """The common message for one mailbox, on a session whose statements run alone: what
        the decision needs, read in one round trip, and the copy to store (its attachments are
        in the blob store). None, having written nothing, for any message that needs more (a
        copy stored already, a verification, an automatic message, a sender suspended or at
        its rate limit, a mail loop): :meth:`receive` in a unit of work takes it."""
        sender = _sender(parsed, inbound.envelope_from)
        noise = classify(parsed, envelope_from=inbound.envelope_from)
        if noise.auto_generated or (parsed.headers.get(VERIFICATION_HEADER.lower()) or [""])[0].strip():
            return None
        raw_sha256 = hashlib.sha256(inbound.raw).hexdigest()
        dedupe_key = _dedupe_key(parsed, raw_sha256)
        now = utcnow()
        window_start = now - timedelta(seconds=self.settings.sender_rate_window_seconds)
        facts = await self.messages.intake_facts([mailbox.id], dedupe_key, sender, now, window_start)
        if facts.stored or facts.own_address or facts.suspended_until is not None:
            return None
        if facts.recent >= self.settings.sender_rate_limit:
            return None
        pending: dict[uuid.UUID, Disposition] = {mailbox.id: ("pending", None, None)}
        [row], [(result, event)] = await self._planned(
            inbound, parsed, [mailbox], sender, raw_sha256, dedupe_key, noise, pending, now
        )
        assert isinstance(event, MessageReceived)
        return PlannedCopy(row, result, event, sender)

    async def _is_verification(
        self, inbound: Inbound, parsed: ParsedEmail, mailbox: Mailbox, sender: str, now: datetime
    ) -> bool:
        token = (parsed.headers.get(VERIFICATION_HEADER.lower()) or [""])[0].strip()
        if not token:
            return False
        return await self.mailboxes.complete_verification(
            mailbox.id, token, route=inbound.route, received_from=inbound.envelope_from or sender, now=now
        )

    async def _dispositions(
        self,
        inbound: Inbound,
        parsed: ParsedEmail,
        sender: str,
        noise: Noise,
        facts: IntakeFacts,
        copies: int,
        now: datetime,
    ) -> list[Disposition]:
        """Each new copy's status, in order: the sender's rate counts every copy, as if stored one by one."""
        if facts.own_address:
            return [
                ("dropped", f"sent from this system's own address {sender} (mail loop)", HoldReason.MAIL_LOOP)
            ] * copies
        if noise.auto_generated:
            thread_ids = [*parsed.in_reply_to, *parsed.references]
            if noise.kind == "bounce":
                # A bounce names the mail it bounces only inside its attached headers.
                thread_ids += [found.decode("ascii", "replace") for found in _HEADER_MESSAGE_ID.findall(inbound.raw)]
            if await self.messages.case_of_thread(thread_ids) is None:
                return [
                    ("dropped", f"{noise.kind} not in reply to any case: {noise.reason}", HoldReason.NOISE)
                ] * copies
        # Machines answering our mail count too: a runaway auto-responder is stopped here.
        if facts.suspended_until is not None:
            reason = f"sender suspended until {facts.suspended_until.isoformat()}: {facts.suspension_reason}"
            return [("suspended", reason, HoldReason.SENDER_SUSPENDED)] * copies
        limit = self.settings.sender_rate_limit
        statuses: list[Disposition] = []
        for recent in range(facts.recent, facts.recent + copies):
            if recent < limit:
                statuses.append(("pending", None, None))
                continue
            until = now + timedelta(seconds=self.settings.sender_suspension_seconds)
            reason = f"{recent + 1} messages within {self.settings.sender_rate_window_seconds}s (limit {limit})"
            await self.messages.suspend(sender, until, reason, now)
            suspended: Disposition = (
                "suspended",
                f"sender suspended until {until.isoformat()}: {reason}",
                HoldReason.SENDER_SUSPENDED,
            )
            statuses += [suspended] * (copies - len(statuses))
            break
        return statuses

    async def _store(
        self,
        inbound: Inbound,
        parsed: ParsedEmail,
        mailboxes: list[Mailbox],
        sender: str,
        raw_sha256: str,
        dedupe_key: str,
        noise: Noise,
        facts: IntakeFacts,
        now: datetime,
    ) -> list[IntakeResult]:
        verified = {
            mailbox.id for mailbox in mailboxes if await self._is_verification(inbound, parsed, mailbox, sender, now)
        }
        counted = [mailbox for mailbox in mailboxes if mailbox.id not in verified]
        decided = dict(
            zip(
                [mailbox.id for mailbox in counted],
                await self._dispositions(inbound, parsed, sender, noise, facts, len(counted), now) if counted else [],
                strict=True,
            )
        )
        rows, planned = await self._planned(
            inbound, parsed, mailboxes, sender, raw_sha256, dedupe_key, noise, decided, now
        )
        inserted = await self.messages.insert_many(rows)
        results: list[IntakeResult] = []
        for result, _event in planned:
            if result.intake_id in inserted:
                results.append(result)
                continue
            # A concurrent delivery of the same message won the race.
            existing = await self.messages.find(result.mailbox.id, dedupe_key)
            assert existing is not None
            results.append(IntakeResult(existing.id, result.mailbox, True, existing.status, existing.reason))
        await self.outbox.add_envelopes(
            self.session,
            [
                (event.topic.value, event.envelope(source=self.source, subject=str(result.intake_id)), sender)
                for result, event in planned
                if result.intake_id in inserted and event is not None
            ],
        )
        return results

    async def _planned(
        self,
        inbound: Inbound,
        parsed: ParsedEmail,
        mailboxes: list[Mailbox],
        sender: str,
        raw_sha256: str,
        dedupe_key: str,
        noise: Noise,
        decided: dict[uuid.UUID, Disposition],
        now: datetime,
    ) -> tuple[list[dict[str, Any]], list[tuple[IntakeResult, MessageReceived | MessageHeld | None]]]:
        """Each mailbox's copy as a row to store and the event it publishes (none for a dropped one);
        the attachments are in the blob store when it returns."""
        attachments = list(parsed.attachments)
        if parsed.errors and any(not error.startswith(("declared", "decoded")) for error in parsed.errors):
            # What could not be read stays readable to an agent in the original.
            attachments.append(ParsedAttachment("original.eml", "message/rfc822", inbound.raw))
        digests = await self.blobs.put_many([attachment.content for attachment in attachments])
        refs = [
            AttachmentRef(
                sha256=digest,
                filename=attachment.filename,
                content_type=attachment.content_type[:200],
                size=len(attachment.content),
                content_id=attachment.content_id,
                inline=attachment.inline,
            )
            for digest, attachment in zip(digests, attachments, strict=True)
        ]
        rows: list[dict[str, Any]] = []
        planned: list[tuple[IntakeResult, MessageReceived | MessageHeld | None]] = []
        for mailbox in mailboxes:
            intake_id = uuid7()
            status, reason, hold = decided.get(
                mailbox.id, ("dropped", "mailbox verification message: the mailbox is verified", None)
            )
            message = self._event(intake_id, inbound, parsed, mailbox, sender, refs, noise, now)
            # Handed on as a case, or held back where staff can recover it; only verifications end here.
            event: MessageReceived | MessageHeld | None = message if status == "pending" else None
            if hold is not None:
                event = MessageHeld(message=message, reason=hold, detail=reason or hold.value)
            rows.append(
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
                    "event_data": message.model_dump(mode="json"),
                    "hold_reason": hold,
                    "published_count": 1 if event is not None else 0,
                    "last_published_at": now if event is not None else None,
                }
            )
            planned.append((IntakeResult(intake_id, mailbox, False, status, reason), event))
        return rows, planned

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
        if metadata["auto_response"] and mailbox.suggest_articles:
            metadata["suggest_articles"] = True
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
