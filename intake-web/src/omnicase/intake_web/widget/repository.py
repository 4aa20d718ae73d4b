"""Every query on the widget's conversations and their entries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, Integer, String, Uuid, bindparam, case, column, func, null, select, update
from sqlalchemy.dialects.postgresql import ARRAY, insert

from omnicase.intake_web.models import deliveries
from omnicase.intake_web.models import widget_conversations as conversations
from omnicase.intake_web.models import widget_entries as entries
from omnicase.kit.repository import Repository

VISITOR = "visitor"
AGENT = "agent"
# Answers first: the suggested articles, and the notes that end (answered) or hand over the conversation.
ARTICLES = "articles"
NOTE = "note"

WANTED, SHOWN, NONE, ANSWERED, HANDED_OVER = "wanted", "shown", "none", "answered", "handed_over"


@dataclass(frozen=True)
class Entry:
    seq: int
    direction: str
    text: str
    author: str | None
    client_id: str | None
    created_at: datetime
    data: dict[str, Any] | None = None


@dataclass(frozen=True)
class ConversationState:
    channel_id: uuid.UUID
    case_id: uuid.UUID | None
    answers: str | None
    held_until: datetime | None = None


@dataclass(frozen=True)
class Locked:
    """A conversation as a visitor's message finds it, locked until commit."""

    last_seq: int
    case_id: uuid.UUID | None
    answers: str | None
    held_until: datetime | None


@dataclass(frozen=True)
class HeldEntry:
    """A visitor message held back (answers first), with its intake message's parts."""

    seq: int
    text: str
    client_id: str | None
    held: dict[str, Any]


@dataclass(frozen=True)
class DueHold:
    conversation_id: uuid.UUID
    channel_id: uuid.UUID


@dataclass(frozen=True)
class Signals:
    """Where both sides of a conversation stand: the last entry each has read, when each last typed."""

    channel_id: uuid.UUID
    case_id: uuid.UUID | None
    last_seq: int
    visitor_read_seq: int
    agent_read_seq: int
    visitor_typing_at: datetime | None
    agent_typing_at: datetime | None


@dataclass(frozen=True)
class VisitorAddress:
    """Who wrote, as the conversation's token said at their last message, and the widget's mail delay then."""

    email: str | None
    name: str | None
    email_after_seconds: int | None


@dataclass(frozen=True)
class DueMail:
    """An agent reply whose mail is due: still unread (``read_seq``, ``seen_seq`` below its ``seq``) means mail it."""

    conversation_id: uuid.UUID
    seq: int
    case_id: uuid.UUID
    outbound_id: uuid.UUID
    email: str | None
    name: str | None
    read_seq: int
    seen_seq: int


@dataclass(frozen=True)
class WantedAnswers:
    conversation_id: uuid.UUID
    channel_id: uuid.UUID
    case_id: uuid.UUID | None  # None: the question is held back from the desk (no case yet)
    question: str


_ENTRY_COLUMNS = (
    entries.c.seq,
    entries.c.direction,
    entries.c.text,
    entries.c.author,
    entries.c.client_id,
    entries.c.created_at,
    entries.c.data,
)


class WidgetRepository(Repository):
    async def lock_conversation(
        self,
        conversation_id: uuid.UUID,
        channel_id: uuid.UUID,
        now: datetime,
        *,
        answers_first: bool = False,
        visitor: VisitorAddress | None = None,
    ) -> Locked:
        """The conversation as it stands (its last entry number, case, answers first), its row created if new
        and locked until commit (entries of one conversation are numbered, and so committed, in order);
        ``visitor`` notes who writes (an address once given stays) and the widget's mail delay as of now."""
        noted: dict[str, Any] = {}
        if visitor is not None:
            noted = {
                "visitor_email": visitor.email,
                "visitor_name": visitor.name,
                "email_after_seconds": visitor.email_after_seconds,
            }
        statement = insert(conversations).values(
            id=conversation_id,
            channel_id=channel_id,
            last_seq=0,
            created_at=now,
            updated_at=now,
            answers_first=answers_first,
            **noted,
        )
        changed: dict[str, Any] = {"updated_at": now}
        if visitor is not None:
            changed |= {
                "visitor_email": func.coalesce(statement.excluded.visitor_email, conversations.c.visitor_email),
                "visitor_name": func.coalesce(statement.excluded.visitor_name, conversations.c.visitor_name),
                "email_after_seconds": statement.excluded.email_after_seconds,
            }
        upsert = statement.on_conflict_do_update(index_elements=[conversations.c.id], set_=changed).returning(
            conversations.c.last_seq, conversations.c.case_id, conversations.c.answers, conversations.c.held_until
        )
        return Locked(*(await self.session.execute(upsert)).one())

    async def hold(self, conversation_id: uuid.UUID, until: datetime) -> None:
        """The conversation holds its visitor's messages from the desk until ``until`` (a first one: it wants
        its articles)."""
        await self.session.execute(
            update(conversations)
            .where(conversations.c.id == conversation_id)
            .values(held_until=until, answers=func.coalesce(conversations.c.answers, WANTED))
        )

    async def held_entries(self, conversation_id: uuid.UUID) -> list[HeldEntry]:
        """The visitor's messages held back, in order."""
        rows = await self.session.execute(
            select(entries.c.seq, entries.c.text, entries.c.client_id, entries.c.held)
            .where(
                entries.c.conversation_id == conversation_id,
                entries.c.held.is_not(None),
                entries.c.intake_id.is_(None),
            )
            .order_by(entries.c.seq)
        )
        return [HeldEntry(*row) for row in rows]

    async def released(self, conversation_id: uuid.UUID, intake_ids: list[tuple[int, uuid.UUID]]) -> None:
        """The held messages became these intake messages (``(seq, intake id)``); the conversation holds none."""
        if intake_ids:
            became = (
                func.unnest(
                    bindparam("seqs", [seq for seq, _ in intake_ids], type_=ARRAY(Integer)),
                    bindparam("intake_ids", [intake_id for _, intake_id in intake_ids], type_=ARRAY(Uuid)),
                )
                .table_valued(column("seq", Integer), column("intake_id", Uuid))
                .render_derived(name="became")
            )
            await self.session.execute(
                update(entries)
                .where(entries.c.conversation_id == conversation_id, entries.c.seq == became.c.seq)
                .values(intake_id=became.c.intake_id, held=null())
            )
        await self.session.execute(
            update(conversations).where(conversations.c.id == conversation_id).values(held_until=None)
        )

    async def stop_holding(self, conversation_id: uuid.UUID) -> None:
        """The question ended without the desk (an article answered it): its held messages stay in the
        transcript only."""
        await self.session.execute(
            update(conversations).where(conversations.c.id == conversation_id).values(held_until=None)
        )

    async def claim_due_holds(self, now: datetime, limit: int) -> list[DueHold]:
        """Conversations whose visitor neither chose nor wrote again in time, locked until commit (replicas
        share them)."""
        rows = await self.session.execute(
            select(conversations.c.id, conversations.c.channel_id)
            .where(conversations.c.held_until <= now)
            .order_by(conversations.c.held_until)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [DueHold(*row) for row in rows]

    async def next_seq(self, conversation_id: uuid.UUID, now: datetime) -> int | None:
        """The number of a new entry, the conversation locked until commit; None if it has no row."""
        statement = (
            update(conversations)
            .where(conversations.c.id == conversation_id)
            .values(last_seq=conversations.c.last_seq + 1, updated_at=now)
            .returning(conversations.c.last_seq)
        )
        found = (await self.session.execute(statement)).scalar_one_or_none()
        return None if found is None else int(found)

    async def next_reply_seq(self, conversation_id: uuid.UUID, now: datetime) -> tuple[int, datetime | None] | None:
        """As :meth:`next_seq`, with when the reply's mail is due (None: no address, or the widget mails none)."""
        statement = (
            update(conversations)
            .where(conversations.c.id == conversation_id)
            .values(last_seq=conversations.c.last_seq + 1, updated_at=now)
            .returning(conversations.c.last_seq, conversations.c.visitor_email, conversations.c.email_after_seconds)
        )
        found = (await self.session.execute(statement)).one_or_none()
        if found is None:
            return None
        seq, email, after = found
        return int(seq), (now + timedelta(seconds=after) if email and after is not None else None)

    async def mark_seen(self, conversation_id: uuid.UUID, seq: int) -> None:
        """An open socket or event stream of the visitor's carried the entries up to ``seq``."""
        await self.session.execute(
            update(conversations)
            .where(conversations.c.id == conversation_id, conversations.c.visitor_seen_seq < seq)
            .values(visitor_seen_seq=seq)
        )

    async def claim_due_mails(self, now: datetime, limit: int) -> list[DueMail]:
        """Agent replies whose mail is due, locked until commit (replicas share them), oldest first."""
        rows = await self.session.execute(
            select(
                entries.c.conversation_id,
                entries.c.seq,
                deliveries.c.case_id,
                entries.c.outbound_id,
                conversations.c.visitor_email,
                conversations.c.visitor_name,
                conversations.c.visitor_read_seq,
                conversations.c.visitor_seen_seq,
            )
            .join(conversations, conversations.c.id == entries.c.conversation_id)
            .join(deliveries, deliveries.c.outbound_id == entries.c.outbound_id)
            .where(entries.c.email_due_at <= now)
            .order_by(entries.c.email_due_at)
            .limit(limit)
            .with_for_update(of=entries, skip_locked=True)
        )
        return [DueMail(*row) for row in rows]

    async def settle_mails(
        self, settled: list[tuple[uuid.UUID, int]], mailed: set[tuple[uuid.UUID, int]], now: datetime
    ) -> None:
        """The claimed replies are due no more; those in ``mailed`` were asked of case-core ``now``."""
        if not settled:
            return
        pairs = (
            func.unnest(
                bindparam("conversation_ids", [c for c, _ in settled], type_=ARRAY(Uuid)),
                bindparam("seqs", [q for _, q in settled], type_=ARRAY(Integer)),
                bindparam("mailed", [key in mailed for key in settled], type_=ARRAY(Boolean)),
            )
            .table_valued(column("conversation_id", Uuid), column("seq", Integer), column("mailed", Boolean))
            .render_derived(name="settled")
        )
        await self.session.execute(
            update(entries)
            .where(entries.c.conversation_id == pairs.c.conversation_id, entries.c.seq == pairs.c.seq)
            .values(email_due_at=None, emailed_at=case((pairs.c.mailed, now), else_=None))
        )

    async def by_client_id(self, conversation_id: uuid.UUID, client_id: str) -> Entry | None:
        row = (
            await self.session.execute(
                select(*_ENTRY_COLUMNS).where(
                    entries.c.conversation_id == conversation_id, entries.c.client_id == client_id
                )
            )
        ).one_or_none()
        return None if row is None else Entry(*row)

    async def add(
        self,
        conversation_id: uuid.UUID,
        entry: Entry,
        *,
        intake_id: uuid.UUID | None = None,
        outbound_id: uuid.UUID | None = None,
        email_due_at: datetime | None = None,
        held: dict[str, Any] | None = None,
    ) -> bool:
        """Store an entry; False when its reply (``outbound_id``) was stored before."""
        statement = (
            insert(entries)
            .values(
                conversation_id=conversation_id,
                seq=entry.seq,
                direction=entry.direction,
                text=entry.text,
                author=entry.author,
                client_id=entry.client_id,
                intake_id=intake_id,
                outbound_id=outbound_id,
                data=entry.data,
                created_at=entry.created_at,
                email_due_at=email_due_at,
                # SQL NULL, not JSON null: "held" means a row with parts (held_entries reads IS NOT NULL).
                held=null() if held is None else held,
            )
            .on_conflict_do_nothing(index_elements=[entries.c.outbound_id])
            .returning(entries.c.seq)
        )
        return (await self.session.execute(statement)).one_or_none() is not None

    async def live(self, conversation_id: uuid.UUID, seq: int, limit: int) -> tuple[list[Entry], Signals | None]:
        """Entries after ``seq`` (oldest first) and where both sides stand, in one round trip: a live stream
        reads this on every wake-up and every heartbeat, thousands of times a minute."""
        rows = (
            await self.session.execute(
                select(*_SIGNALS.selected_columns, *_ENTRY_COLUMNS)
                .select_from(conversations)
                .outerjoin(entries, (entries.c.conversation_id == conversations.c.id) & (entries.c.seq > seq))
                .where(conversations.c.id == conversation_id)
                .order_by(entries.c.seq)
                .limit(limit)
            )
        ).all()
        if not rows:
            return [], None
        width = len(_SIGNALS.selected_columns)
        found = [Entry(*row[width:]) for row in rows if row[width] is not None]
        return found, Signals(*rows[0][:width])

    async def after(self, conversation_id: uuid.UUID, seq: int, limit: int) -> list[Entry]:
        """Entries after ``seq``, oldest first."""
        rows = await self.session.execute(
            select(*_ENTRY_COLUMNS)
            .where(entries.c.conversation_id == conversation_id, entries.c.seq > seq)
            .order_by(entries.c.seq)
            .limit(limit)
        )
        return [Entry(*row) for row in rows]

    async def note_cases(self, acks: list[tuple[uuid.UUID, uuid.UUID]]) -> list[uuid.UUID]:
        """The conversations whose messages these ``(intake id, case id)`` acknowledge learn their case (the
        first one named wins); those with answers first then want them. Returns the conversations changed."""
        if not acks:
            return []
        confirmed = (
            func.unnest(
                bindparam("intake_ids", [intake_id for intake_id, _ in acks], type_=ARRAY(Uuid)),
                bindparam("case_ids", [case_id for _, case_id in acks], type_=ARRAY(Uuid)),
            )
            .table_valued(column("intake_id", Uuid), column("case_id", Uuid))
            .render_derived(name="confirmed")
        )
        named = (
            select(entries.c.conversation_id, func.min(confirmed.c.case_id.cast(String)).label("case_id"))
            .join(confirmed, confirmed.c.intake_id == entries.c.intake_id)
            .group_by(entries.c.conversation_id)
            .subquery()
        )
        result = await self.session.execute(
            update(conversations)
            .where(conversations.c.id == named.c.conversation_id, conversations.c.case_id.is_(None))
            .values(
                case_id=named.c.case_id.cast(Uuid),
                # A question held back has had its articles already (answers set): a case it opened wants none.
                answers=func.coalesce(conversations.c.answers, case((conversations.c.answers_first, WANTED))),
            )
            .returning(conversations.c.id)
        )
        return list(result.scalars())

    async def claim_wanted(self, limit: int) -> list[WantedAnswers]:
        """Conversations waiting for their suggested articles, locked until commit (replicas share them),
        each with its first message."""
        wanted = (
            select(conversations.c.id, conversations.c.channel_id, conversations.c.case_id)
            .where(conversations.c.answers == WANTED)
            .order_by(conversations.c.updated_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .cte("wanted")
        )
        rows = await self.session.execute(
            select(wanted.c.id, wanted.c.channel_id, wanted.c.case_id, entries.c.text).join(
                entries, (entries.c.conversation_id == wanted.c.id) & (entries.c.seq == 1)
            )
        )
        return [WantedAnswers(*row) for row in rows]

    async def state(self, conversation_id: uuid.UUID, *, lock: bool = False) -> ConversationState | None:
        query = select(
            conversations.c.channel_id, conversations.c.case_id, conversations.c.answers, conversations.c.held_until
        ).where(conversations.c.id == conversation_id)
        if lock:
            query = query.with_for_update()
        row = (await self.session.execute(query)).one_or_none()
        return None if row is None else ConversationState(*row)

    async def set_answers(self, conversation_id: uuid.UUID, answers: str) -> None:
        await self.session.execute(
            update(conversations).where(conversations.c.id == conversation_id).values(answers=answers)
        )

    async def last_of(self, conversation_id: uuid.UUID, direction: str) -> Entry | None:
        row = (
            await self.session.execute(
                select(*_ENTRY_COLUMNS)
                .where(entries.c.conversation_id == conversation_id, entries.c.direction == direction)
                .order_by(entries.c.seq.desc())
                .limit(1)
            )
        ).one_or_none()
        return None if row is None else Entry(*row)

    async def by_case(self, case_id: uuid.UUID) -> tuple[uuid.UUID, Signals] | None:
        """The conversation that opened ``case_id`` (the newest, should there be several), with its signals."""
        row = (
            await self.session.execute(
                select(conversations.c.id, *_SIGNALS.selected_columns)
                .where(conversations.c.case_id == case_id)
                .order_by(conversations.c.created_at.desc())
                .limit(1)
            )
        ).one_or_none()
        return None if row is None else (row[0], Signals(*row[1:]))

    async def mark_read(self, conversation_id: uuid.UUID, by: str, seq: int) -> Signals | None:
        """``by`` has read up to ``seq`` (never past the last entry, never back); None when nothing moved."""
        read = conversations.c.visitor_read_seq if by == VISITOR else conversations.c.agent_read_seq
        moved = func.least(seq, conversations.c.last_seq)
        return await self._signal(
            update(conversations).where(conversations.c.id == conversation_id, read < moved).values({read.name: moved})
        )

    async def mark_typing(self, conversation_id: uuid.UUID, by: str, now: datetime, every: timedelta) -> Signals | None:
        """``by`` is typing: noted at most once per ``every`` (None when it was noted more recently)."""
        typed = conversations.c.visitor_typing_at if by == VISITOR else conversations.c.agent_typing_at
        return await self._signal(
            update(conversations)
            .where(conversations.c.id == conversation_id, (typed.is_(None)) | (typed <= now - every))
            .values({typed.name: now})
        )

    async def _signal(self, statement: Any) -> Signals | None:
        row = (await self.session.execute(statement.returning(*_SIGNALS.selected_columns))).one_or_none()
        return None if row is None else Signals(*row)


_SIGNALS = select(
    conversations.c.channel_id,
    conversations.c.case_id,
    conversations.c.last_seq,
    conversations.c.visitor_read_seq,
    conversations.c.agent_read_seq,
    conversations.c.visitor_typing_at,
    conversations.c.agent_typing_at,
)
