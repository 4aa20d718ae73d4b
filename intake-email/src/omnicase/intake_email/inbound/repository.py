"""Every query about stored inbound messages, suspensions and thread lookups."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, Row, Select, Uuid, bindparam, column, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.sql.dml import ReturningInsert

from omnicase.intake_email.models import (
    imap_cursors,
    mailboxes,
    outbound_messages,
    raw_messages,
    sender_suspensions,
)
from omnicase.kit.db import named_values
from omnicase.kit.inputs import email_key
from omnicase.kit.intake import Unconfirmed
from omnicase.kit.repository import Repository

# Rows of any width: column selections give Row[Any, Any, ...], whole tables Row[Unpack[...]].
AnyRow = Row[*tuple[Any, ...]]


def _intake_facts() -> Select[Any]:
    """Built once: every inbound message asks it, and building it costs more than running it."""
    copy = func.json_build_array(
        raw_messages.c.mailbox_id, raw_messages.c.id, raw_messages.c.status, raw_messages.c.reason
    )
    stored = (
        select(func.json_agg(copy, type_=JSON))
        .where(
            raw_messages.c.dedupe_key == bindparam("dedupe_key"),
            raw_messages.c.mailbox_id.in_(bindparam("mailbox_ids", expanding=True)),
        )
        .scalar_subquery()
    )
    sender = bindparam("sender", type_=sender_suspensions.c.sender.type)
    suspended = (sender_suspensions.c.sender == sender) & (
        sender_suspensions.c.suspended_until > bindparam("now", type_=sender_suspensions.c.suspended_until.type)
    )
    return select(
        stored.label("stored"),
        exists().where(mailboxes.c.address == bindparam("own_address")).label("own_address"),
        select(sender_suspensions.c.suspended_until).where(suspended).scalar_subquery().label("until"),
        select(sender_suspensions.c.reason).where(suspended).scalar_subquery().label("reason"),
        select(func.count())
        .where(
            raw_messages.c.thread_key == sender,
            raw_messages.c.received_at >= bindparam("window_start", type_=raw_messages.c.received_at.type),
        )
        .scalar_subquery()
        .label("recent"),
    )


_INTAKE_FACTS = _intake_facts()


@functools.cache
def store_copy(names: tuple[str, ...]) -> ReturningInsert[tuple[uuid.UUID]]:
    """One copy for one mailbox with these columns, its id back; nothing (no row) when that
    mailbox has it already. Built once per set of columns."""
    return (
        insert(raw_messages)
        .values(named_values(raw_messages, names))
        .on_conflict_do_nothing(index_elements=["mailbox_id", "dedupe_key"])
        .returning(raw_messages.c.id)
    )


@dataclass(frozen=True)
class StoredCopy:
    id: uuid.UUID
    status: str
    reason: str | None


@dataclass(frozen=True)
class IntakeFacts:
    """What deciding on one inbound message needs, read in one round trip."""

    stored: dict[uuid.UUID, StoredCopy]  # mailbox id -> the copy it has already (same dedupe key)
    own_address: bool  # the sender is one of our mailboxes (a mail loop)
    suspended_until: datetime | None
    suspension_reason: str | None
    recent: int  # messages from the sender since the rate window's start


class RawMessageRepository(Repository):
    async def insert(self, values: dict[str, Any]) -> bool:
        """Store one raw message; False when this mailbox already has it (same dedupe key)."""
        stored = await self.session.scalar(
            insert(raw_messages)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["mailbox_id", "dedupe_key"])
            .returning(raw_messages.c.id)
        )
        return stored is not None

    async def insert_many(self, rows: list[dict[str, Any]]) -> set[uuid.UUID]:
        """Store raw messages in one statement; the ids stored (a mailbox that has one already keeps it)."""
        if not rows:
            return set()
        stored = await self.session.scalars(
            insert(raw_messages)
            .on_conflict_do_nothing(index_elements=["mailbox_id", "dedupe_key"])
            .returning(raw_messages.c.id),
            rows,  # as parameters: one cached statement (a multi-row .values() is compiled per call)
        )
        return set(stored)

    async def intake_facts(
        self, mailbox_ids: Sequence[uuid.UUID], dedupe_key: str, sender: str, now: datetime, window_start: datetime
    ) -> IntakeFacts:
        parameters = {
            "dedupe_key": dedupe_key,
            "mailbox_ids": list(mailbox_ids),
            "sender": sender,
            "own_address": email_key(sender),
            "now": now,
            "window_start": window_start,
        }
        row = (await self.session.execute(_INTAKE_FACTS, parameters)).one()
        copies = {
            uuid.UUID(mailbox_id): StoredCopy(uuid.UUID(intake_id), status, reason)
            for mailbox_id, intake_id, status, reason in row.stored or []
        }
        return IntakeFacts(copies, bool(row.own_address), row.until, row.reason, int(row.recent))

    async def find(self, mailbox_id: uuid.UUID, dedupe_key: str) -> AnyRow | None:
        return (
            await self.session.execute(
                select(raw_messages.c.id, raw_messages.c.status, raw_messages.c.reason).where(
                    raw_messages.c.mailbox_id == mailbox_id, raw_messages.c.dedupe_key == dedupe_key
                )
            )
        ).first()

    async def get(self, intake_id: uuid.UUID) -> AnyRow | None:
        return (await self.session.execute(select(raw_messages).where(raw_messages.c.id == intake_id))).first()

    async def page_for_case(self, case_id: uuid.UUID, *, after: uuid.UUID | None, limit: int) -> list[AnyRow]:
        """A case's inbound messages, oldest first (ids are UUIDv7), without their bytes."""
        columns = [column for column in raw_messages.c if column.name not in ("raw", "event_data")]
        query = (
            select(*columns, func.length(raw_messages.c.raw).label("size"))
            .where(raw_messages.c.case_id == case_id)
            .order_by(raw_messages.c.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(raw_messages.c.id > after)
        return list((await self.session.execute(query)).all())

    async def suspend(self, sender: str, until: datetime, reason: str, now: datetime) -> None:
        statement = insert(sender_suspensions).values(
            sender=sender, suspended_until=until, reason=reason, created_at=now
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["sender"],
                set_={"suspended_until": until, "reason": reason, "created_at": now},
            )
        )

    async def case_of_thread(self, message_ids: Sequence[str]) -> uuid.UUID | None:
        """The case a message belongs to when it refers to mail we received or sent."""
        if not message_ids:
            return None
        ids = list(dict.fromkeys(message_ids))[:100]
        sent: uuid.UUID | None = await self.session.scalar(
            select(outbound_messages.c.case_id).where(outbound_messages.c.message_id.in_(ids)).limit(1)
        )
        if sent is not None:
            return sent
        received: uuid.UUID | None = await self.session.scalar(
            select(raw_messages.c.case_id)
            .where(raw_messages.c.message_id.in_(ids), raw_messages.c.case_id.is_not(None))
            .limit(1)
        )
        return received

    async def claim_unconfirmed(self, published_before: datetime, limit: int) -> list[Unconfirmed]:
        """Unacknowledged messages last published before the cutoff: pending ones, then held ones
        (those stored before held messages were handed on were never published)."""
        c = raw_messages.c
        columns = (c.id, c.thread_key, c.event_data, c.hold_reason, c.reason)
        pending = (
            select(*columns)
            .where(raw_messages.c.status == "pending", raw_messages.c.last_published_at < published_before)
            .order_by(raw_messages.c.last_published_at)
        )
        held = (
            select(*columns)
            .where(
                raw_messages.c.hold_reason.is_not(None),
                raw_messages.c.acknowledged_at.is_(None),
                or_(raw_messages.c.last_published_at.is_(None), raw_messages.c.last_published_at < published_before),
            )
            .order_by(raw_messages.c.last_published_at.nulls_first())
        )
        rows: list[AnyRow] = []
        for query in (pending, held):  # apart: each is read through its own partial index
            if len(rows) < limit:
                found = await self.session.execute(query.limit(limit - len(rows)).with_for_update(skip_locked=True))
                rows += found.all()
        return [
            Unconfirmed(row.id, row.event_data, hold_reason=row.hold_reason, hold_detail=row.reason) for row in rows
        ]

    async def mark_published(self, intake_ids: Sequence[uuid.UUID], now: datetime) -> None:
        await self.session.execute(
            update(raw_messages)
            .where(raw_messages.c.id.in_(list(intake_ids)))
            .values(published_count=raw_messages.c.published_count + 1, last_published_at=now)
        )

    async def acknowledge(self, acks: Sequence[tuple[uuid.UUID, uuid.UUID, int | None]], now: datetime) -> None:
        """Settle each pending message ``(intake_id, case_id, case_number)`` in one statement.

        Messages acknowledged already (only the first acknowledgement counts) or not ours are left as they are.
        """
        if not acks:
            return
        # Arrays unnested, not a VALUES list: one statement text for any batch, compiled once.
        confirmed = (
            func.unnest(
                bindparam("ids", [intake_id for intake_id, _, _ in acks], type_=ARRAY(Uuid)),
                bindparam("case_ids", [case_id for _, case_id, _ in acks], type_=ARRAY(Uuid)),
                bindparam("case_numbers", [number for _, _, number in acks], type_=ARRAY(Integer)),
            )
            .table_valued(column("id", Uuid), column("case_id", Uuid), column("case_number", Integer))
            .render_derived(name="confirmed")
        )
        await self.session.execute(
            update(raw_messages)
            # A held message recovered by staff is settled by its case like any other.
            .where(raw_messages.c.id == confirmed.c.id, raw_messages.c.status.in_(("pending", "dropped", "suspended")))
            .values(
                status="acknowledged",
                case_id=confirmed.c.case_id,
                case_number=confirmed.c.case_number,
                acknowledged_at=now,
            )
        )

    async def acknowledge_held(self, intake_ids: Sequence[uuid.UUID], now: datetime) -> None:
        """case-core keeps these held messages: they are not published again (one statement)."""
        if not intake_ids:
            return
        await self.session.execute(
            update(raw_messages)
            .where(
                raw_messages.c.id == func.any(bindparam("ids", list(intake_ids), type_=ARRAY(Uuid))),
                raw_messages.c.hold_reason.is_not(None),
                raw_messages.c.acknowledged_at.is_(None),
            )
            .values(acknowledged_at=now)
        )

    async def mark_auto_responded(self, intake_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(
            update(raw_messages).where(raw_messages.c.id == intake_id).values(auto_responded_at=now)
        )

    async def latest_with_message_id(self, message_id: str) -> AnyRow | None:
        """The newest stored mail with this Message-ID (unique per mailbox, so possibly several)."""
        return (
            await self.session.execute(
                select(raw_messages.c.mailbox_id)
                .where(raw_messages.c.message_id == message_id.strip().strip("<>"))
                .order_by(raw_messages.c.received_at.desc())
                .limit(1)
            )
        ).first()

    async def latest_for_case(self, case_id: uuid.UUID) -> AnyRow | None:
        return (
            await self.session.execute(
                select(raw_messages.c.mailbox_id, raw_messages.c.case_number, raw_messages.c.message_id)
                .where(raw_messages.c.case_id == case_id)
                .order_by(raw_messages.c.received_at.desc())
                .limit(1)
            )
        ).first()


class ImapCursorRepository(Repository):
    """Where polling of each IMAP account stands, and who is polling it."""

    async def lease(self, account: str, now: datetime, until: datetime) -> AnyRow | None:
        """Take the account for one poll; None when another poller holds it."""
        await self.session.execute(
            insert(imap_cursors).values(account=account).on_conflict_do_nothing(index_elements=["account"])
        )
        row: AnyRow | None = (
            await self.session.execute(
                update(imap_cursors)
                .where(
                    imap_cursors.c.account == account,
                    (imap_cursors.c.lease_until.is_(None)) | (imap_cursors.c.lease_until < now),
                )
                .values(lease_until=until)
                .returning(imap_cursors)
            )
        ).first()
        return row

    async def advance(self, account: str, uidvalidity: int, last_uid: int) -> None:
        await self.session.execute(
            update(imap_cursors)
            .where(imap_cursors.c.account == account)
            .values(uidvalidity=uidvalidity, last_uid=last_uid)
        )

    async def release(self, account: str, now: datetime, error: str | None) -> None:
        await self.session.execute(
            update(imap_cursors)
            .where(imap_cursors.c.account == account)
            .values(lease_until=None, last_polled_at=now, last_error=error[:2000] if error else None)
        )

    async def get(self, account: str) -> AnyRow | None:
        row: AnyRow | None = (
            await self.session.execute(select(imap_cursors).where(imap_cursors.c.account == account))
        ).first()
        return row
