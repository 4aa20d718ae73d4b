"""Every query on ``inbound_messages``: what this intake accepted and whether case-core confirmed it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Uuid, bindparam, column, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.sql.dml import ReturningInsert

from omnicase.intake_web.models import inbound_messages as messages
from omnicase.kit.db import named_values
from omnicase.kit.intake import Unconfirmed
from omnicase.kit.repository import Repository

PENDING = "pending"
ACKNOWLEDGED = "acknowledged"
HELD = "held"


# Built once, the values given at execution: every accepted message runs it.
_ADD = (
    insert(messages)
    .on_conflict_do_nothing(index_elements=[messages.c.source, messages.c.dedupe_key])
    .returning(messages.c.id)
)


def new_message(values: dict[str, Any]) -> dict[str, Any]:
    """A message's row as stored: ``pending`` and published once, unless ``values`` say otherwise."""
    return {"status": PENDING, "publish_count": 1} | values


_INSERTS: dict[tuple[str, ...], ReturningInsert[tuple[uuid.UUID]]] = {}


def insert_message(names: tuple[str, ...]) -> ReturningInsert[tuple[uuid.UUID]]:
    """The INSERT of a message with these columns, RETURNING its id; nothing (no row) when its
    source sent its dedupe key before. Its values named in the statement, so it can be part of
    another one (:meth:`~omnicase.kit.outbox.Outbox.write_alone`); built once per set of columns."""
    statement = _INSERTS.get(names)
    if statement is None:
        statement = _INSERTS[names] = (
            insert(messages)
            .values(named_values(messages, names))
            .on_conflict_do_nothing(index_elements=[messages.c.source, messages.c.dedupe_key])
            .returning(messages.c.id)
        )
    return statement


class InboundMessageRepository(Repository):
    async def by_dedupe_key(self, source: str, dedupe_key: str) -> Row[Any] | None:
        result = await self.session.execute(
            select(*messages.c).where(messages.c.source == source, messages.c.dedupe_key == dedupe_key)
        )
        return result.one_or_none()

    async def existing_dedupe_keys(self, source: str, keys: list[str]) -> set[str]:
        if not keys:
            return set()
        result = await self.session.execute(
            select(messages.c.dedupe_key).where(messages.c.source == source, messages.c.dedupe_key.in_(keys))
        )
        return {key for key in result.scalars() if key is not None}

    async def get(self, message_id: uuid.UUID, *, lock: bool = False) -> Row[Any] | None:
        query = select(*messages.c).where(messages.c.id == message_id)
        if lock:
            query = query.with_for_update()
        return (await self.session.execute(query)).one_or_none()

    async def add(self, **values: Any) -> bool:
        """Store a message (``pending`` unless told); False when one with the same source and dedupe key exists."""
        row = await self.session.execute(_ADD, new_message(values))
        return row.one_or_none() is not None

    async def count_for_form_between(self, form_id: uuid.UUID, start: datetime, end: datetime) -> int:
        count = await self.session.scalar(
            select(func.count()).where(
                messages.c.form_id == form_id,
                messages.c.received_at >= start,
                messages.c.received_at < end,
                messages.c.status != HELD,  # held spam is counted among the refusals
            )
        )
        return int(count or 0)

    async def acknowledge(self, acks: list[tuple[uuid.UUID, uuid.UUID]], now: datetime) -> None:
        """Settle each pending message ``(id, case_id)`` in one statement; others are left as they are."""
        if not acks:
            return
        # Arrays unnested, not a VALUES list: one statement text for any batch, compiled once.
        confirmed = (
            func.unnest(
                bindparam("ids", [message_id for message_id, _ in acks], type_=ARRAY(Uuid)),
                bindparam("case_ids", [case_id for _, case_id in acks], type_=ARRAY(Uuid)),
            )
            .table_valued(column("id", Uuid), column("case_id", Uuid))
            .render_derived(name="confirmed")
        )
        await self.session.execute(
            update(messages)
            # A held message recovered by staff is settled by its case like any other.
            .where(messages.c.id == confirmed.c.id, messages.c.status.in_((PENDING, HELD)))
            .values(status=ACKNOWLEDGED, case_id=confirmed.c.case_id, acknowledged_at=now)
        )

    async def acknowledge_held(self, message_ids: list[uuid.UUID], now: datetime) -> None:
        """case-core keeps these held messages: they are not published again (one statement)."""
        if not message_ids:
            return
        await self.session.execute(
            update(messages)
            .where(
                messages.c.id == func.any(bindparam("ids", message_ids, type_=ARRAY(Uuid))),
                messages.c.status == HELD,
                messages.c.acknowledged_at.is_(None),
            )
            .values(acknowledged_at=now)
        )

    async def claim_unconfirmed(self, published_before: datetime, limit: int) -> list[Unconfirmed]:
        """Pending, then held, messages case-core has not confirmed, last published before the cutoff;
        locked so one replica republishes each."""
        rows: list[Row[Any]] = []
        unconfirmed = (
            messages.c.status == PENDING,
            (messages.c.status == HELD) & messages.c.acknowledged_at.is_(None),
        )
        for condition in unconfirmed:  # apart: each is read through its own partial index
            if len(rows) < limit:
                result = await self.session.execute(
                    select(*messages.c)
                    .where(condition, messages.c.last_published_at < published_before)
                    .order_by(messages.c.last_published_at)
                    .limit(limit - len(rows))
                    .with_for_update(skip_locked=True)
                )
                rows += result.all()
        return [
            Unconfirmed(row.id, row.event, hold_reason=row.hold_reason, hold_detail=row.hold_detail) for row in rows
        ]

    async def mark_published(self, message_ids: Sequence[uuid.UUID], now: datetime) -> None:
        await self.session.execute(
            update(messages)
            .where(messages.c.id.in_(list(message_ids)))
            .values(last_published_at=now, publish_count=messages.c.publish_count + 1)
        )

    async def page_for_form(self, form_id: uuid.UUID, after: uuid.UUID | None, limit: int) -> list[Row[Any]]:
        query = select(*messages.c).where(messages.c.form_id == form_id).order_by(messages.c.id.desc()).limit(limit)
        if after is not None:
            query = query.where(messages.c.id < after)
        return list((await self.session.execute(query)).all())

    async def page_for_channel(self, channel_id: uuid.UUID, after: uuid.UUID | None, limit: int) -> list[Row[Any]]:
        query = (
            select(*messages.c).where(messages.c.channel_id == channel_id).order_by(messages.c.id.desc()).limit(limit)
        )
        if after is not None:
            query = query.where(messages.c.id < after)
        return list((await self.session.execute(query)).all())
