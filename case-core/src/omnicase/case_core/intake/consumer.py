"""``intake.messages`` → cases: each inbound message opens a case or joins a thread.

Runs inside the kit's one-transaction-per-partition-batch; every lookup is indexed
(source intake id, Message-IDs, reference tokens, contact identities), and messages
of one batch see each other's writes (flushed, same transaction).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.auto_responses.service import AutoResponseService, wants_auto_response
from omnicase.case_core.cases.repository import CaseRepository
from omnicase.case_core.cases.schemas import normalize_tags
from omnicase.case_core.cases.service import CaseService, MessageDraft, NewCase
from omnicase.case_core.contacts.repository import ContactRow
from omnicase.case_core.contacts.service import ContactService, Identity
from omnicase.case_core.held.service import HeldMessageService
from omnicase.case_core.identity import Actor
from omnicase.case_core.intake.threading import ThreadFinder
from omnicase.case_core.languages import CaseLanguages
from omnicase.case_core.messages.repository import MessageRepository, MessageRow
from omnicase.case_core.normalize import normalize_message_id, normalize_message_ids
from omnicase.case_core.notifications.service import NotificationService
from omnicase.kit.bus.batch import Batch, event_types
from omnicase.kit.events import CaseStatus, DeliveryReported, MessageHeld, MessageReceived, NotificationReported

logger = logging.getLogger(__name__)

_NO_SUBJECT = "(no subject)"

ACCEPTS = event_types(MessageReceived, MessageHeld, DeliveryReported, NotificationReported)


class IntakeConsumer:
    def __init__(
        self,
        cases: CaseService,
        contacts: ContactService,
        notifications: NotificationService,
        auto_responses: AutoResponseService,
        held: HeldMessageService,
        languages: CaseLanguages,
    ) -> None:
        self.cases = cases
        self.languages = languages
        self.contacts = contacts
        self.notifications = notifications
        self.auto_responses = auto_responses
        self.held = held
        self.threads = ThreadFinder()

    async def handle(self, session: AsyncSession, batch: Batch) -> None:
        # Normalised once: the batch's lookups and each message's handling read the same values.
        arrivals = {
            id(received): _normalized(received.data) for received in batch if isinstance(received.data, MessageReceived)
        }
        prefetched = await self._prefetch(session, list(arrivals.values())) if arrivals else None
        await self.held.keep(
            session, [(held.data, held.envelope.source) for held in batch if isinstance(held.data, MessageHeld)]
        )
        locales: dict[uuid.UUID, str] = {}
        for received in batch:
            with received.traced():
                match received.data:
                    case MessageReceived():
                        await self.receive(session, arrivals[id(received)], prefetched, locales)
                    case DeliveryReported() as report:
                        await self.delivered(session, report, received.envelope.source)
                    case NotificationReported() as report:
                        await self.notifications.reported(session, report)
        # The new locales of the batch's contacts at once (one statement, and none without any).
        await self.contacts.set_missing_locales(session, locales)

    async def _prefetch(self, session: AsyncSession, messages: list[MessageReceived]) -> Prefetched:
        """What every message of the batch looks up first, read in two queries instead of two per message,
        and the contacts of its new senders, made in a third."""
        keys = [(message.intake_id, _email_id(message)) for message in messages]
        by_intake, by_email = await MessageRepository(session).received_among(
            [intake_id for intake_id, _ in keys], [email_id for _, email_id in keys if email_id]
        )
        seen: set[object] = set()
        repeated: set[uuid.UUID] = set()
        for intake_id, email_id in keys:
            own = {intake_id, email_id} - {None}
            if own & seen:
                repeated.add(intake_id)
            seen |= own
        holders = await self.contacts.holders_of(session, [(message.sender, message.channel) for message in messages])
        prefetched = Prefetched(by_intake, by_email, repeated, holders)
        # New senders' contacts at once rather than one statement each (a message received
        # before, or repeating another of the batch, makes none).
        fresh = [
            (message.sender, message.channel)
            for message, (intake_id, email_id) in zip(messages, keys, strict=True)
            if intake_id not in repeated and prefetched.received(intake_id, email_id) is None
        ]
        await self.contacts.create_unknown(session, fresh, holders)
        return prefetched

    async def receive_one(self, session: AsyncSession, message: MessageReceived) -> None:
        """One message as it came from an intake (a held one recovered): a case or a reply."""
        locales: dict[uuid.UUID, str] = {}
        await self.receive(session, _normalized(message), locales=locales)
        await self.contacts.set_missing_locales(session, locales)

    async def receive(
        self,
        session: AsyncSession,
        message: MessageReceived,
        prefetched: Prefetched | None = None,
        locales: dict[uuid.UUID, str] | None = None,
    ) -> None:
        """A normalised message (:func:`_normalized`) as a case or a reply; ``prefetched``: the batch's
        lookups read at once (:meth:`_prefetch`), without it each is a query; ``locales``: where the
        contacts' new locales are gathered for the batch (:mod:`omnicase.case_core.languages`)."""
        # Redelivery, the intake republishing a pending message, or the same email
        # arriving through two routes: the message exists already; acknowledge again.
        email_id = _email_id(message)
        if prefetched is not None and message.intake_id not in prefetched.repeated:
            existing = prefetched.received(message.intake_id, email_id)
        else:
            # A message repeating one of this batch: the earlier one's rows are written by now.
            existing = await MessageRepository(session).already_received(message.intake_id, email_id)
        if existing is not None:
            await self.cases.acknowledge_again(session, existing, message.intake_id)
            return

        holders = prefetched.holders if prefetched is not None else None
        contact = await self.contacts.resolve(session, message.sender, message.channel, holders)
        actor = Actor(name=f"contact:{contact.id}" if contact else message.channel.value, via=message.channel.value)
        draft = MessageDraft(
            direction="inbound",
            public=True,
            author=actor.name,
            author_role="customer",
            channel=message.channel.value,
            text=message.text,
            html=message.html,
            email_message_id=message.message_id if message.channel == "email" else None,
            in_reply_to=message.in_reply_to,
            references=message.references,
            conversation_id=message.conversation_id,
            source_intake_id=message.intake_id,
            attachments=message.attachments,
        )
        case = await self.threads.find(session, message, contact.id if contact else None)
        if case is not None and case.status != CaseStatus.CLOSED:
            await self.cases.add_message(session, case.id, draft, actor)
            return
        defaults = message.defaults
        brand = (await self.cases.brands.current(session)).of_slug(defaults.brand)
        language = self.languages.choose(
            await self.languages.detector(session),
            stated=defaults.language[:20] if defaults.language else None,
            text=f"{message.subject or ''}\n{message.text}",
            contact=contact,
            brand=brand,
        )
        if language.contact is not None and contact is not None and locales is not None:
            locales.setdefault(contact.id, language.contact)
        new = NewCase(
            subject=(message.subject or "").strip()[:500] or _NO_SUBJECT,
            description=message.text,
            channel=message.channel.value,
            priority=(defaults.priority or "normal"),
            type=defaults.type if defaults.type in {"question", "incident", "problem", "task"} else None,
            requester_id=contact.id if contact else None,
            group_id=defaults.group_id,
            brand=defaults.brand[:100] if defaults.brand else None,
            tags=_clean_tags(defaults.tags),
            custom_fields=defaults.custom_fields,
            conversation_id=message.conversation_id,
            follow_up_of=case.id if case is not None else None,
            language=language.case,
        )
        created = await self.cases.create(session, new, actor, first_message=draft, strict=False, requester=contact)
        # Only a message that opens a case is acknowledged; replies joining one never are.
        if wants_auto_response(message):
            await self.auto_responses.send(session, created, message, requester=contact)
        if case is not None:
            logger.info(
                "reply to a closed case opened a follow-up",
                extra={"closed_case": str(case.id), "follow_up": str(created.id)},
            )

    async def delivered(self, session: AsyncSession, report: DeliveryReported, source: str) -> None:
        """A reply went out (its Message-ID threads the answers) or could not (the agents are told)."""
        if await CaseRepository(session).get(report.case_id) is None:
            return
        if report.status == "sent":
            message_id = normalize_message_id(report.provider_message_id)
            if message_id:
                await self.cases.record_sent(session, report.case_id, report.outbound_id, message_id)
        else:
            await self.cases.record_failed_delivery(
                session, report.case_id, report.error, Actor(name=source, via="delivery")
            )


@dataclass
class Prefetched:
    by_intake: dict[uuid.UUID, MessageRow]
    by_email: dict[str, MessageRow]
    # Messages sharing an intake id or Message-ID with an earlier one of the batch.
    repeated: set[uuid.UUID]
    holders: dict[Identity, ContactRow | None]

    def received(self, intake_id: uuid.UUID, email_id: str | None) -> MessageRow | None:
        """As ``MessageRepository.already_received``: the oldest message by either key."""
        found = [row for row in (self.by_intake.get(intake_id), self.by_email.get(email_id or "")) if row]
        return min(found, key=lambda row: row.created_at) if found else None


def _normalized(message: MessageReceived) -> MessageReceived:
    return message.model_copy(
        update={
            "message_id": normalize_message_id(message.message_id),
            "in_reply_to": normalize_message_ids(message.in_reply_to),
            "references": normalize_message_ids(message.references),
            # Provider ids beyond the column are cut the same way every time, so they still match.
            "conversation_id": message.conversation_id[:300] if message.conversation_id else None,
        }
    )


def _email_id(message: MessageReceived) -> str | None:
    return message.message_id if message.channel == "email" else None


def _clean_tags(tags: list[str]) -> list[str]:
    cleaned: list[str] = []
    for tag in tags:
        try:
            cleaned += normalize_tags([tag])
        except ValueError:
            logger.warning("ignoring malformed default tag", extra={"tag": tag})
    return list(dict.fromkeys(cleaned))
