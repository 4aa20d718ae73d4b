"""Queue outbound mail: replies and auto-responses requested by case-core, staff notifications,
verification messages.

Queuing renders and composes the message once and stores its exact bytes, so a
retry sends the very same message (same Message-ID) and what was sent stays on record.
The sender (:mod:`.sender`) delivers queued rows.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_email.inbound.repository import RawMessageRepository
from omnicase.intake_email.mailboxes.repository import MailboxRepository
from omnicase.intake_email.mailboxes.schemas import Mailbox
from omnicase.intake_email.outbound.composer import OutgoingAttachment, OutgoingMail, compose
from omnicase.intake_email.outbound.repository import OutboundRepository
from omnicase.intake_email.outbound.templates import TemplateRenderer, paragraphs
from omnicase.intake_email.settings import IntakeEmailSettings
from omnicase.kit.blobs import BlobStore
from omnicase.kit.clock import utcnow
from omnicase.kit.events import (
    DeliveryReported,
    NotificationReported,
    NotificationRequested,
    OutboundMessageRequested,
    Party,
)
from omnicase.kit.ids import uuid7
from omnicase.kit.inputs import email_key
from omnicase.kit.outbox import Outbox

logger = logging.getLogger(__name__)

Kind = Literal["reply", "auto_response", "verification", "notification"]
VERIFICATION_HEADER = "X-Omnicase-Verification"


class OutboundService:
    def __init__(
        self,
        session: AsyncSession,
        *,
        settings: IntakeEmailSettings,
        outbox: Outbox,
        blobs: BlobStore,
        renderer: TemplateRenderer,
        source: str,
    ) -> None:
        self.session = session
        self.settings = settings
        self.outbox = outbox
        self.blobs = blobs
        self.renderer = renderer
        self.source = source
        self.repository = OutboundRepository(session)
        self.mailboxes = MailboxRepository(session)
        self.messages = RawMessageRepository(session)

    def _message_id(self, outbound_id: uuid.UUID) -> str:
        # Derived from the id: a redelivered request composes the same Message-ID.
        return f"{outbound_id}@{self.settings.message_id_domain}"

    async def _sending_mailbox(
        self, case_id: uuid.UUID, in_reply_to: str | None = None, brand: str | None = None
    ) -> Mailbox | None:
        """The mailbox the case's mail came to; else the oldest of the case's brand (a chat's reply
        by email, say); else the configured default; else the oldest mailbox.

        The mail being answered counts first: a new case's auto-response may be asked for before
        ``case.created`` (another topic) told us which case our stored mail opened.
        """
        answered = await self.messages.latest_with_message_id(in_reply_to) if in_reply_to else None
        latest = answered or await self.messages.latest_for_case(case_id)
        if latest is not None:
            mailbox = await self.mailboxes.get(latest.mailbox_id)
            if mailbox is not None:
                return mailbox
        if brand is not None and (mailbox := await self.mailboxes.oldest(brand=brand)) is not None:
            return mailbox
        return await self._default_mailbox()

    async def _recipients(self, parties: list[Party]) -> list[tuple[str | None, str]]:
        """Real addresses only: never the null sender, never one of our own mailboxes (a loop)."""
        found: list[tuple[str | None, str]] = []
        for party in parties:
            address = email_key((party.email or "").strip().strip("<>"))
            if "@" not in address or await self.mailboxes.is_own_address(address):
                continue
            if address not in {existing for _, existing in found}:
                found.append((party.name, address))
        return found

    async def queue_reply(self, request: OutboundMessageRequested) -> None:
        """Queue case-core's reply or auto-response; one with nowhere to go is reported failed at once.

        An auto-response (``automatic``) to an address that had one within
        ``AUTO_RESPONSE_INTERVAL_SECONDS`` is not sent at all, so two auto-responders stop.
        """
        if await self.repository.get(request.outbound_id) is not None:
            return
        now = utcnow()
        slug = request.brand.slug if request.brand is not None else None
        mailbox = await self._sending_mailbox(request.case_id, request.in_reply_to, slug)
        recipients = await self._recipients(request.to)
        if request.automatic and recipients:
            since = now - timedelta(seconds=self.settings.auto_response_interval_seconds)
            if await self.repository.auto_responded_recently(recipients[0][1], since):
                logger.info(
                    "auto-response suppressed: the address had one recently",
                    extra={"outbound_id": str(request.outbound_id), "case_id": str(request.case_id)},
                )
                return
        problem = None
        if mailbox is None:
            problem = "no mailbox is configured to send from"
        elif not recipients:
            problem = "no deliverable email address among the recipients"
        subject = request.subject or "(no subject)"
        # The mailbox's own signature and logo first, then the case brand's (case-core's brands).
        brand = request.brand
        text, html = self.renderer.render(
            "reply",
            mailbox.brand if mailbox and mailbox.brand else (brand.slug if brand else None),
            {
                "text": request.text,
                "html": request.html,
                "paragraphs": paragraphs(request.text),
                "subject": subject,
                "signature": (mailbox.signature if mailbox else None) or (brand.signature if brand else None),
                "logo_url": (mailbox.logo_url if mailbox else None) or (brand.logo_url if brand else None),
                "brand_name": brand.name if brand else (mailbox.brand if mailbox else None) or "",
                "brand_color": brand.primary_color if brand else None,
                "locale": brand.locale if brand else None,
            },
        )
        attachments = []
        for ref in request.attachments:
            content = await self.blobs.get(ref.sha256)
            if content is None:
                problem = problem or f"attachment {ref.filename} ({ref.sha256}) is not in the blob store"
                continue
            attachments.append(OutgoingAttachment(ref.filename, ref.content_type, content, ref.content_id, ref.inline))
        message_id = self._message_id(request.outbound_id)
        raw = b""
        if mailbox is not None and recipients:
            raw = compose(
                OutgoingMail(
                    from_address=mailbox.address,
                    from_name=mailbox.display_name,
                    to=recipients,
                    subject=subject,
                    text=text,
                    html=html,
                    message_id=message_id,
                    date=now,
                    in_reply_to=request.in_reply_to,
                    references=request.references,
                    automatic=request.automatic,
                    # Only extension headers: the structural ones are ours to set.
                    extra_headers={
                        name: value for name, value in request.headers.items() if name.lower().startswith("x-")
                    },
                    attachments=attachments,
                )
            )
        await self.repository.insert(
            {
                "id": request.outbound_id,
                "case_id": request.case_id,
                "mailbox_id": mailbox.id if mailbox else None,
                "kind": "auto_response" if request.automatic else "reply",
                "mail_from": mailbox.address if mailbox else "",
                "primary_recipient": recipients[0][1] if recipients else "",
                "recipients": [address for _, address in recipients],
                "subject": subject,
                "message_id": message_id,
                "raw": raw,
                "status": "failed" if problem else "pending",
                "last_error": problem,
                "next_attempt_at": now,
                "created_at": now,
            }
        )
        if problem:
            logger.warning("outbound message cannot be sent", extra={"outbound_id": str(request.outbound_id)})
            await self.report(request.outbound_id, request.case_id, "failed", error=problem)

    async def queue_notification(self, request: NotificationRequested) -> None:
        """Queue case-core's email to staff; like a reply in looks, but no reply on any case."""
        if await self.repository.get(request.notification_id) is not None:
            return
        now = utcnow()
        mailbox = await self._sending_mailbox(request.case_id) if request.case_id else await self._default_mailbox()
        recipients = await self._recipients(request.to)
        problem = None
        if mailbox is None:
            problem = "no mailbox is configured to send from"
        elif not recipients:
            problem = "no deliverable email address among the recipients"
        text, html = self.renderer.render(
            "reply",
            request.brand or (mailbox.brand if mailbox else None),
            {
                "text": request.text,
                "html": request.html,
                "paragraphs": paragraphs(request.text),
                "subject": request.subject,
                "signature": None,
                "logo_url": mailbox.logo_url if mailbox else None,
            },
        )
        message_id = self._message_id(request.notification_id)
        raw = b""
        if mailbox is not None and recipients:
            raw = compose(
                OutgoingMail(
                    from_address=mailbox.address,
                    from_name=mailbox.display_name,
                    to=recipients,
                    subject=request.subject,
                    text=text,
                    html=html,
                    message_id=message_id,
                    date=now,
                    # Machine-sent: out-of-office replies to it stay quiet.
                    automatic=True,
                    auto_submitted="auto-generated",
                    # An agent's answer goes to the case's mailbox (the one its replies come from)
                    # and threads into the case by the reference marker case-core put in the body.
                    reply_to=mailbox.address if request.case_id else None,
                )
            )
        await self.repository.insert(
            {
                "id": request.notification_id,
                "case_id": request.case_id,
                "mailbox_id": mailbox.id if mailbox else None,
                "kind": "notification",
                "mail_from": mailbox.address if mailbox else "",
                "primary_recipient": recipients[0][1] if recipients else "",
                "recipients": [address for _, address in recipients],
                "subject": request.subject,
                "message_id": message_id,
                "raw": raw,
                "status": "failed" if problem else "pending",
                "last_error": problem,
                "next_attempt_at": now,
                "created_at": now,
            }
        )
        if problem:
            logger.warning("notification cannot be sent", extra={"notification_id": str(request.notification_id)})
            await self.report_notification(request.notification_id, request.case_id, "failed", error=problem)

    async def _default_mailbox(self) -> Mailbox | None:
        if self.settings.default_from_address:
            mailbox = await self.mailboxes.by_address(self.settings.default_from_address)
            if mailbox is not None:
                return mailbox
        return await self.mailboxes.oldest()

    async def queue_verification(self, mailbox: Mailbox, token: str) -> uuid.UUID:
        """A test message to the mailbox's own address, sent through the relay like any other mail."""
        now = utcnow()
        outbound_id = uuid7()
        text, _ = self.renderer.render("verification", mailbox.brand, {"address": mailbox.address, "token": token})
        message_id = self._message_id(outbound_id)
        sender = self.settings.default_from_address or f"verification@{self.settings.message_id_domain}"
        raw = compose(
            OutgoingMail(
                from_address=sender,
                from_name="Omnicase verification",
                to=[(mailbox.display_name, mailbox.address)],
                subject=f"Omnicase mailbox verification for {mailbox.address}",
                text=text,
                html=None,
                message_id=message_id,
                date=now,
                automatic=True,
                extra_headers={VERIFICATION_HEADER: token},
            )
        )
        await self.repository.insert(
            {
                "id": outbound_id,
                "case_id": None,
                "mailbox_id": mailbox.id,
                "kind": "verification",
                "mail_from": sender,
                "primary_recipient": mailbox.address,
                "recipients": [mailbox.address],
                "subject": f"Omnicase mailbox verification for {mailbox.address}",
                "message_id": message_id,
                "raw": raw,
                "status": "pending",
                "next_attempt_at": now,
                "created_at": now,
            }
        )
        return outbound_id

    async def report(
        self,
        outbound_id: uuid.UUID,
        case_id: uuid.UUID | None,
        status: Literal["sent", "failed"],
        *,
        message_id: str | None = None,
        error: str | None = None,
        kind: str = "reply",
    ) -> None:
        """Tell case-core what became of a message (verification mail belongs to no case)."""
        if kind == "notification":
            await self.report_notification(outbound_id, case_id, status, error=error)
            return
        if case_id is None:
            return
        await self.outbox.add(
            self.session,
            DeliveryReported(
                outbound_id=outbound_id,
                case_id=case_id,
                status=status,
                provider_message_id=message_id,
                error=error,
            ),
            source=self.source,
            subject=str(case_id),
            key=str(case_id),
        )

    async def report_notification(
        self,
        notification_id: uuid.UUID,
        case_id: uuid.UUID | None,
        status: Literal["sent", "failed"],
        *,
        error: str | None = None,
    ) -> None:
        key = str(case_id or notification_id)
        await self.outbox.add(
            self.session,
            NotificationReported(notification_id=notification_id, status=status, error=error),
            source=self.source,
            subject=key,
            key=key,
        )
