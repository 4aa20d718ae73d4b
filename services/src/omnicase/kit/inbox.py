"""Idempotent inbox: the ids of events a consumer has already applied.

A consumer claims event ids in the same transaction as its effect; an id already
claimed means "duplicate, skip". ``INSERT … ON CONFLICT DO NOTHING RETURNING``
decides it in one statement, so two racing consumers cannot both win.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import Column, DateTime, MetaData, PrimaryKeyConstraint, String, Table, Uuid, delete, func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.clock import utcnow


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "inbox",
        metadata,
        Column("consumer", String(200), nullable=False),
        Column("event_id", Uuid, nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("consumer", "event_id"),
    )


class Inbox:
    def __init__(self, table: Table) -> None:
        self.table = table

    async def claim(self, session: AsyncSession, consumer: str, event_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        """Record ``event_ids`` as processed by ``consumer``; returns the ones that were new."""
        rows = [{"consumer": consumer, "event_id": event_id} for event_id in dict.fromkeys(event_ids)]
        if not rows:
            return set()
        statement = (
            insert(self.table)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
            .returning(self.table.c.event_id)
        )
        result = await session.execute(statement)
        return set(result.scalars())

    async def forget_older_than(self, session: AsyncSession, age: timedelta) -> int:
        """Drop ids older than ``age`` (longer than any redelivery can take)."""
        result = await session.execute(delete(self.table).where(self.table.c.processed_at < utcnow() - age))
        return int(getattr(result, "rowcount", 0) or 0)
