"""The widget's conversations: visitor messages into the suite's intake, agent replies into the transcript."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_web.channels.definition import StoredChannel
from omnicase.intake_web.channels.delivery_repository import SENT, DeliveryRepository
from omnicase.intake_web.channels.inbound import InboundItem, store
from omnicase.intake_web.channels.outbound import report
from omnicase.intake_web.channels.schemas import WidgetConfig
from omnicase.intake_web.forms import ratelimit
from omnicase.intake_web.hours import working_now
from omnicase.intake_web.metrics import DELIVERIES, WIDGET_REPLIES_MAILED
from omnicase.intake_web.service import SPEC
from omnicase.intake_web.widget.hub import ConversationHub, thread_key
from omnicase.intake_web.widget.repository import (
    AGENT,
    VISITOR,
    Entry,
    Locked,
    Signals,
    VisitorAddress,
    WidgetRepository,
)
from omnicase.intake_web.widget.tokens import Conversation
from omnicase.kit.blobs import BlobStore
from omnicase.kit.clock import utcnow
from omnicase.kit.db import Database
from omnicase.kit.errors import NotFound, RateLimited
from omnicase.kit.events import AttachmentRef, OutboundMessageRequested, Party, SendReplyByEmail, WidgetSignalled
from omnicase.kit.outbox import Outbox
from omnicase.kit.schedules import ScheduleSource

# case-core ends every reply with the case's reference marker (``[ref:oc-<token>]``) so a
# quoted email finds its case; the widget's conversation is its own thread, and a visitor
# has no use for the marker.
_REFERENCE_MARKER = re.compile(r"\s*\[ref:oc-[0-9a-f]{20}\]\s*$", re.IGNORECASE)
TRANSCRIPT_LIMIT = 500
# The tag of a case opened by a message left outside the chat's business hours (answered later, by email).
AFTER_HOURS = "after-hours"


Signal = Literal["typing", "read"]
# A side's "typing" is noted (and sent on) at most this often; the widget and consoles show it for TYPING_SHOWN.
TYPING_EVERY = timedelta(seconds=2)
TYPING_SHOWN = timedelta(seconds=6)


class NoChat(NotFound):
    slug = "no-chat"


@dataclass(frozen=True)
class Posted:
    entry: Entry
    replayed: bool


class WidgetService:
    def __init__(
        self, database: Database, outbox: Outbox, blobs: BlobStore, hub: ConversationHub, schedules: ScheduleSource
    ) -> None:
        self.database = database
        self.outbox = outbox
        self.blobs = blobs
        self.hub = hub
        self.schedules = schedules

    async def away(self, channel: StoredChannel) -> bool:
        """Whether the chat is outside its business hours now: its own, or sla-engine's schedule (read through
        the kit's cache). While sla-engine cannot say, away: the visitor is asked for their email and their
        message becomes a case all the same, which an agent who is there answers live, whereas a chat taken
        as open at night leaves a visitor with no address waiting for nobody (a voice channel decides the
        other way, since a caller turned away reaches no agent at all)."""
        config = channel.config
        assert isinstance(config, WidgetConfig)
        if config.business_hours is not None:
            return not config.business_hours.open_at(utcnow())
        if config.business_hours_id is None:
            return False
        return not await working_now(
            self.schedules, config.business_hours_id, unknown=False, what=f"chat widget {channel.id}"
        )

    async def post(
        self,
        channel: StoredChannel,
        conversation: Conversation,
        text: str,
        client_id: str,
        remote_ip: str | None,
        attachments: tuple[AttachmentRef, ...] = (),
    ) -> Posted:
        """Store the visitor's message and its intake event in one transaction (then, and only then, it is
        acknowledged); the same ``client_id`` again answers the entry stored the first time. ``attachments`` are
        in the blob store already (the widget's upload), carried by the intake message as a form's files are."""
        assert isinstance(channel.config, WidgetConfig)
        conversation_id, visitor = conversation.conversation_id, conversation.visitor
        config = channel.config
        now = utcnow()
        visitor_scope = f"widget:{conversation_id}"
        ip_scope = f"widget-ip:{channel.id}:{remote_ip or 'unknown'}"
        async with self.database.unit_of_work() as session:
            counts = await ratelimit.hits(session, [visitor_scope, ip_scope], now)
        if (
            counts.get(visitor_scope, 0) > config.per_visitor_per_minute
            or counts.get(ip_scope, 0) > config.per_ip_per_minute
        ):
            raise RateLimited(
                "Too many messages in a minute; wait a moment and send it again.",
                headers={"Retry-After": str(ratelimit.retry_after(now))},
            )
        # Asked of sla-engine (when the hours are its) before the transaction, never inside it.
        away = await self.away(channel)
        async with self.database.unit_of_work() as session:
            widget = WidgetRepository(session)
            address = VisitorAddress(
                visitor.email if visitor else None, visitor.name if visitor else None, config.email_unread_after_seconds
            )
            locked = await widget.lock_conversation(
                conversation_id, channel.id, now, answers_first=config.answers_first, visitor=address
            )
            earlier = await widget.by_client_id(conversation_id, client_id)
            if earlier is not None:
                return Posted(earlier, replayed=True)
            seq = await widget.next_seq(conversation_id, now)
            assert seq is not None  # locked above
            item = InboundItem(
                dedupe_key=f"widget:{conversation_id}:{client_id}",
                conversation=str(conversation_id),
                sender=Party(
                    handle=f"visitor-{conversation_id}",
                    email=visitor.email if visitor else None,
                    name=visitor.name if visitor else None,
                ),
                text=text,
                message_id=f"{conversation_id}:{seq}",
                metadata={"widget_conversation_id": str(conversation_id)}
                | ({"widget_visitor_id": visitor.user_id} if visitor and visitor.user_id else {}),
                tags=((f"topic-{visitor.topic}",) if visitor and visitor.topic else ())
                + ((AFTER_HOURS,) if away else ()),
                attachments=attachments,
                spam=conversation.spam,
            )
            files = [{"filename": a.filename, "content_type": a.content_type, "size": a.size} for a in attachments]
            entry = Entry(seq, VISITOR, text, None, client_id, now, {"attachments": files} if files else None)
            if conversation.spam is None and holds(config, locked, away):
                # Answers first: the question waits for its articles, and the visitor's choice, before the desk.
                await widget.hold(conversation_id, now + timedelta(seconds=config.hand_over_after_seconds))
                await widget.add(conversation_id, entry, held=held_parts(item))
            else:
                intake_ids = await store(session, self.outbox, self.blobs, channel, [item])
                await widget.add(conversation_id, entry, intake_id=intake_ids[0] if intake_ids else None)
            self.hub.wake_after_commit(session, conversation_id)
        return Posted(entry, replayed=False)

    async def transcript(self, conversation_id: uuid.UUID, after: int = 0) -> list[Entry]:
        async with self.database.unit_of_work() as session:
            return await WidgetRepository(session).after(conversation_id, after, TRANSCRIPT_LIMIT)

    async def live(self, conversation_id: uuid.UUID, after: int) -> tuple[list[Entry], Signals | None]:
        """What a live stream reads on every wake: the entries after ``after`` and where both sides stand."""
        async with self.database.unit_of_work() as session:
            return await WidgetRepository(session).live(conversation_id, after, TRANSCRIPT_LIMIT)

    async def signal(self, conversation_id: uuid.UUID, by: str, signal: Signal, seq: int | None = None) -> None:
        """``by`` is typing, or has read up to ``seq`` (everything so far when None): noted on the conversation,
        told to its streams on every replica and to the desk's live stream. A conversation nobody has written
        in yet has nobody to tell; a repeat (typing again within TYPING_EVERY, a read already noted) is dropped."""
        async with self.database.unit_of_work() as session:
            widget = WidgetRepository(session)
            if signal == "typing":
                noted = await widget.mark_typing(conversation_id, by, utcnow(), TYPING_EVERY)
            else:
                noted = await widget.mark_read(conversation_id, by, 2**31 - 1 if seq is None else seq)
            if noted is None:
                return
            read = noted.visitor_read_seq if by == VISITOR else noted.agent_read_seq
            event = WidgetSignalled(
                conversation_id=conversation_id,
                case_id=noted.case_id,
                by="visitor" if by == VISITOR else "agent",
                signal=signal,
                seq=read if signal == "read" else noted.last_seq,
            )
            key = thread_key(noted.channel_id, conversation_id)
            await self.outbox.add(session, event, source=SPEC.name, subject=str(conversation_id), key=key)
            self.hub.wake_after_commit(session, conversation_id)

    async def seen(self, conversation_id: uuid.UUID, seq: int) -> None:
        """An open socket or event stream of the visitor's carried the entries up to ``seq``: no mail for them."""
        async with self.database.unit_of_work() as session:
            await WidgetRepository(session).mark_seen(conversation_id, seq)

    async def mail_unread_replies(self, limit: int = 100) -> int:
        """Agent replies whose mail is due: each the visitor has neither had on an open socket or stream nor read
        goes to case-core as ``case.send_reply_by_email`` (its outbound id is the reply's, so intake-email sends it
        once), in the transaction that settles it, so a worker stopped before commit leaves it due and one
        stopped after has asked exactly once. Returns the replies mailed."""
        now = utcnow()
        async with self.database.unit_of_work() as session:
            widget = WidgetRepository(session)
            due = await widget.claim_due_mails(now, limit)
            mailed: set[tuple[uuid.UUID, int]] = set()
            for item in due:
                if not item.email or max(item.read_seq, item.seen_seq) >= item.seq:
                    continue
                command = SendReplyByEmail(
                    case_id=item.case_id,
                    message_id=item.outbound_id,
                    to=Party(email=item.email, name=item.name),
                    reason=f"widget:{item.conversation_id}",
                )
                await self.outbox.add(
                    session, command, source=SPEC.name, subject=str(item.case_id), key=str(item.case_id)
                )
                mailed.add((item.conversation_id, item.seq))
            await widget.settle_mails([(item.conversation_id, item.seq) for item in due], mailed, now)
        if mailed:
            WIDGET_REPLIES_MAILED.inc(len(mailed))
        return len(mailed)

    async def chat_of_case(self, case_id: uuid.UUID) -> tuple[uuid.UUID, Signals]:
        """The chat conversation a case came from, and where both sides stand."""
        async with self.database.unit_of_work() as session:
            found = await WidgetRepository(session).by_case(case_id)
        if found is None:
            raise NoChat(f"Case {case_id} did not come from a chat, or its chat is not known here yet.")
        return found


def holds(config: WidgetConfig, conversation: Locked, away: bool) -> bool:
    """Whether a visitor's message waits (answers first) rather than going to the desk: the first of a chat that
    shows articles first (not one left outside business hours, which waits for the desk anyway), and any written
    while the conversation still holds its question (each pushes the automatic hand-over back)."""
    if conversation.held_until is not None:
        return True
    return config.answers_first and conversation.last_seq == 0 and not away


def held_parts(item: InboundItem) -> dict[str, Any]:
    """What a held message's intake message is made of, beside its entry's text, client id and number."""
    return {
        "sender": item.sender.model_dump(mode="json", exclude_none=True),
        "metadata": item.metadata,
        "tags": list(item.tags),
        "attachments": [attachment.model_dump(mode="json") for attachment in item.attachments],
    }


def message_item(
    conversation_id: uuid.UUID, seq: int, client_id: str | None, text: str, parts: dict[str, Any]
) -> InboundItem:
    """The intake message a visitor's entry is: the same dedupe key and message id whenever it is made."""
    return InboundItem(
        dedupe_key=f"widget:{conversation_id}:{client_id}",
        conversation=str(conversation_id),
        sender=Party.model_validate(parts["sender"]),
        text=text,
        message_id=f"{conversation_id}:{seq}",
        metadata=dict(parts["metadata"]),
        tags=tuple(parts["tags"]),
        attachments=tuple(AttachmentRef.model_validate(ref) for ref in parts.get("attachments", ())),
    )


async def hand_over_held(
    session: AsyncSession, outbox: Outbox, blobs: BlobStore, channel: StoredChannel, conversation_id: uuid.UUID
) -> int:
    """The conversation's held messages become its intake messages, in order, through the pipeline every message
    takes (stored with their events in the caller's transaction, so all of them or none); returns how many."""
    widget = WidgetRepository(session)
    became: list[tuple[int, uuid.UUID]] = []
    for held in await widget.held_entries(conversation_id):
        item = message_item(conversation_id, held.seq, held.client_id, held.text, held.held)
        intake_ids = await store(session, outbox, blobs, channel, [item])
        if intake_ids:
            became.append((held.seq, intake_ids[0]))
    await widget.released(conversation_id, became)
    return len(became)


async def deliver_reply(
    session: AsyncSession,
    outbox: Outbox,
    hub: ConversationHub,
    request: OutboundMessageRequested,
    channel_id: uuid.UUID,
    conversation: str,
) -> None:
    """An agent's reply becomes the conversation's next entry, and is reported sent, in the consumer's
    transaction; the visitor's open streams wake when it commits."""
    now = utcnow()
    try:
        conversation_id = uuid.UUID(conversation)
    except ValueError:
        conversation_id = None
    widget = WidgetRepository(session)
    numbered = None if conversation_id is None else await widget.next_reply_seq(conversation_id, now)
    if conversation_id is None or numbered is None:
        DELIVERIES.labels("failed").inc()
        await report(session, outbox, request, sent=False, error="no such widget conversation")
        return
    seq, email_due_at = numbered
    text = _REFERENCE_MARKER.sub("", request.text).rstrip()
    entry = Entry(seq, AGENT, text, None, None, now)
    # With an address, the reply's mail is due after the widget's delay unless the visitor has it by then.
    if not await widget.add(conversation_id, entry, outbound_id=request.outbound_id, email_due_at=email_due_at):
        return  # delivered before
    deliveries = DeliveryRepository(session)
    await deliveries.add(request.outbound_id, request.case_id, channel_id, request.model_dump(mode="json"), now)
    await deliveries.finish(request.outbound_id, SENT, now, f"{conversation_id}:{seq}", None)
    DELIVERIES.labels("sent").inc()
    await report(session, outbox, request, sent=True, provider_message_id=f"{conversation_id}:{seq}")
    hub.wake_after_commit(session, conversation_id)
