"""Idempotent inbox: the ids of events a consumer has already applied.

A consumer claims event ids in the same transaction as its effect; an id already
claimed means "duplicate, skip". ``INSERT … ON CONFLICT DO NOTHING RETURNING``
decides it in one statement, so two racing consumers cannot both win.

An id is only needed while the broker may still redeliver its event, so
:class:`InboxJanitor` (run by the app factory in every service with an inbox) forgets
ids older than the retention, once an hour; replicas doing it at once do no harm.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import (
    Column,
    DateTime,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Uuid,
    bindparam,
    delete,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.clock import utcnow
from omnicase.kit.db import Database
from omnicase.kit.periodic import Periodic, periodic

logger = logging.getLogger(__name__)


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
        ids = list(dict.fromkeys(event_ids))
        if not ids:
            return set()
        # The ids as one array, unnested: one statement text for any batch size, so it is
        # compiled once and prepared once per connection (rows as VALUES make a new text, parsed
        # and planned again by the server, for every batch size).
        given = select(literal(consumer, String), func.unnest(bindparam("event_ids", ids, type_=ARRAY(Uuid))))
        statement = (
            insert(self.table)
            .from_select(["consumer", "event_id"], given)
            .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
            .returning(self.table.c.event_id)
        )
        result = await session.execute(statement)
        return set(result.scalars())

    async def forget_older_than(self, session: AsyncSession, age: timedelta) -> int:
        """Drop ids older than ``age`` (longer than any redelivery can take)."""
        result = await session.execute(delete(self.table).where(self.table.c.processed_at < utcnow() - age))
        return int(getattr(result, "rowcount", 0) or 0)


class InboxJanitor:
    """Forgets inbox ids older than ``retention``, every ``interval`` seconds (jittered)."""

    def __init__(self, database: Database, inbox: Inbox, retention: timedelta, interval: float = 3600.0) -> None:
        self.database = database
        self.inbox = inbox
        self.retention = retention
        self.interval = interval
        self._loop: Periodic[int] | None = None

    def start(self) -> None:
        # Jittered: replicas started together do not all prune at once.
        self._loop = periodic("inbox-janitor", self.interval, self.run_once, jitter=0.1)

    async def stop(self) -> None:
        if self._loop is not None:
            await self._loop.stop()

    async def run_once(self) -> int:
        """Forget what is old enough (an unpruned inbox is only bigger, never wrong)."""
        async with self.database.unit_of_work() as session:
            forgotten = await self.inbox.forget_older_than(session, self.retention)
        if forgotten:
            logger.info("inbox pruned", extra={"rows": forgotten})
        return forgotten
