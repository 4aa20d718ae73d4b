"""Transactional outbox: events leave a service only through a row written in the
same transaction as the change they describe, and a relay publishes those rows.

How the relay keeps its promises:

- **Nothing skipped.** The relay never remembers "the last id I published"; each
  poll reads *every* unpublished row of its shards (``published_at IS NULL``, a
  partial index keeps that cheap). A row whose transaction took a lower id but
  committed late is simply found on the next poll. (Cursor polling on ``id >
  last`` would lose it for good.)
- **Per-key order, with any number of replicas.** Each row gets a shard from its
  key (``crc32(key) % shards``). A relay publishes a shard only while it holds
  that shard's PostgreSQL advisory lock, so a shard, and with it every key in it,
  has one publisher at a time, which sends its rows in id order. Replicas that
  hold no shard stand by and take over the locks of one that dies (its session
  ends, its locks go with it). Writers of one key serialise on that key's row
  (the case row, say), so id order within a key is commit order.
- **At least once.** Rows are marked published only after the broker acknowledged
  them. A crash between the two publishes them again; consumers' inboxes drop the
  copy. The mark commits without waiting for its WAL flush (a crash that loses it is
  the same case), so a relay batch never queues behind the disk.
- **One insert per transaction.** :meth:`Outbox.add` stages its rows in the session
  (:mod:`omnicase.kit.staging`); they are written, in the order they were added, by one
  INSERT executed for all of them (one round trip, one prepared statement) per outbox
  table just before the transaction commits, so a consumer batch that emits hundreds of
  events pays one statement, and row ids follow commit order. Rows staged inside a
  savepoint that rolls back are dropped with it.
- **Low latency without serialising commits.** A commit that wrote outbox rows
  wakes the relays of its own process at once (a session ``after_commit`` hook);
  relays in other processes find the rows at their next poll (``poll_interval``,
  0.1 s). No ``NOTIFY`` in write transactions: PostgreSQL holds one cluster-wide
  lock from a notifying transaction's pre-commit through its WAL flush, which
  serialises every notifying commit and loses group commit.
- **Replayable after a broker loses data.** Published rows are kept for
  ``retention`` (an hour by default). :func:`omnicase.ops.replay.replay_published_since` marks the rows
  published since a moment unpublished again, so the relay sends them once more,
  in id order per shard and therefore before any newer row of the same key; the
  consumers' inboxes drop what they had already applied. Each relay batch holds a
  shared transaction lock the replay takes exclusively, so a batch acknowledged by
  the broker while the replay runs cannot be marked published behind its back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Insert,
    Integer,
    LargeBinary,
    MetaData,
    Select,
    SmallInteger,
    String,
    Table,
    Text,
    Uuid,
    bindparam,
    cast,
    delete,
    event,
    func,
    literal,
    literal_column,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql.dml import ReturningInsert

from omnicase.kit.bus.producer import RecordPublisher, envelope_headers
from omnicase.kit.db import Database, any_of, database_unavailable
from omnicase.kit.events import Envelope, EventData
from omnicase.kit.metrics import OUTBOX_PENDING_AGE, OUTBOX_PUBLISHED
from omnicase.kit.staging import on_written, stage
from omnicase.kit.topics import physical

logger = logging.getLogger(__name__)

DEFAULT_SHARDS = 16
# How long the relay keeps published rows, which is how far back a replay can reach.
DEFAULT_RETENTION = timedelta(hours=1)
# Second advisory-lock key of the replay lock; shard locks use 0 .. shards - 1.
REPLAY_LOCK = -1


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("shard", SmallInteger, nullable=False),
        Column("topic", String(200), nullable=False),
        Column("key", String(500), nullable=False),
        Column("event_id", Uuid, nullable=False),
        Column("event_type", String(200), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("headers", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True)),
        Index(
            "ix_outbox_pending",
            "shard",
            "id",
            postgresql_where=text("published_at IS NULL"),
        ),
        Index("ix_outbox_published_at", "published_at", postgresql_where=text("published_at IS NOT NULL")),
    )


def shard_of(key: str, shards: int = DEFAULT_SHARDS) -> int:
    return zlib.crc32(key.encode()) % shards


# Relays running in this process, by the schema of their outbox; woken after a commit
# that wrote rows to that outbox.
_local_relays: dict[str, set[OutboxRelay]] = {}
_WAKE = "omnicase.outbox.wake"
# Every table an Outbox writes: their writes wake the relays of their schema.
_outbox_tables: set[Table] = set()


def _wake_after_write(session: Session, table: Table) -> None:
    if table in _outbox_tables:
        session.info.setdefault(_WAKE, set()).add(table.schema or "public")


on_written(_wake_after_write)


@event.listens_for(Session, "after_commit")
def _wake_local_relays(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: nothing is visible to the relays yet
    schemas: set[str] | None = session.info.pop(_WAKE, None)
    for schema in schemas or ():
        for relay in _local_relays.get(schema, ()):
            relay.wake()


@event.listens_for(Session, "after_soft_rollback")
def _forget_wake(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_WAKE, None)


def _batch_query(table: Table, batch_size: int) -> Select[tuple[int, str, str, bytes, list[list[str]]]]:
    """The next rows of the owned shards, in id order, read with the replay lock taken (shared).

    The lock is taken by the same statement (no round trip of its own) and held to the end of
    the batch's transaction, whose mark of the rows as published need not wait for the WAL
    flush either: a crash that loses the mark publishes the rows again, which consumers'
    inboxes drop. A replay committed while this statement waited for the lock is not in its
    snapshot: the rows it made unpublished are found by the next batch.
    """
    batch_lock = select(
        func.pg_advisory_xact_lock_shared(bindparam("lock_class", type_=Integer), literal(REPLAY_LOCK)),
        func.set_config(literal_column("'synchronous_commit'"), literal_column("'off'"), true()),
    ).cte("batch_lock")
    return (
        select(table.c.id, table.c.topic, table.c.key, table.c.payload, table.c.headers)
        .join(batch_lock, true())
        .where(table.c.published_at.is_(None), table.c.shard.in_(bindparam("owned", expanding=True)))
        .order_by(table.c.id)
        .limit(batch_size)
    )


def _pending_query(table: Table) -> Select[int]:
    """Whether an owned shard has a row to publish: what a poll asks before it opens a batch."""
    return (
        select(literal(1))
        .where(table.c.published_at.is_(None), table.c.shard.in_(bindparam("owned", expanding=True)))
        .limit(1)
    )


def outbox_lock_class(schema: str) -> int:
    # Advisory locks take two int4 keys: one per service's outbox, one per shard.
    value = zlib.crc32(f"{schema}.outbox".encode())
    return value - (1 << 32) if value >= (1 << 31) else value


class Outbox:
    """Writes outbox rows inside the caller's transaction."""

    def __init__(self, table: Table, *, shards: int = DEFAULT_SHARDS) -> None:
        self.table = table
        self.shards = shards
        self.schema = table.schema or "public"
        self._after: dict[Insert, ReturningInsert[tuple[int]]] = {}
        _outbox_tables.add(table)

    async def add(self, session: AsyncSession, data: EventData, *, source: str, subject: str, key: str) -> Envelope:
        """Build the event's envelope and stage it for publication to its contract's topic."""
        envelope = data.envelope(source=source, subject=subject)
        await self.add_envelopes(session, [(data.topic.value, envelope, key)])
        return envelope

    async def add_envelopes(self, session: AsyncSession, items: Sequence[tuple[str, Envelope, str]]) -> None:
        """Stage ``(logical topic, envelope, key)`` items, in order; they are written when the transaction commits."""
        if not items:
            return
        await stage(session, self.table, [self._row(topic, envelope, key) for topic, envelope, key in items])

    def _row(self, topic: str, envelope: Envelope, key: str) -> dict[str, Any]:
        return {
            "shard": shard_of(key, self.shards),
            "topic": topic,
            "key": key,
            "event_id": envelope.id,
            "event_type": envelope.type,
            "payload": envelope.to_bytes(),
            "headers": [[name, value.decode()] for name, value in envelope_headers(envelope)],
        }

    async def write_alone(
        self,
        database: Database,
        write: Insert,
        values: Mapping[str, Any],
        data: EventData,
        *,
        source: str,
        subject: str,
        key: str,
    ) -> bool:
        """``write`` and, if it wrote its row, the event's outbox row: one statement, its own transaction.

        For a transaction that is one write and its event (an intake accepting a message):
        one round trip where a unit of work takes four (BEGIN, the write, the staged outbox
        row, COMMIT). ``write`` is an INSERT … RETURNING built once (one that returns no row,
        a repeat under ``ON CONFLICT DO NOTHING``, writes no event); ``values`` are its
        parameters, none named ``outbox_…``. True when the event was written; this process's
        relays are woken at once.
        """
        statement = self._after.get(write)
        if statement is None:
            statement = self._after[write] = self._after_write(write)
        row = self._row(data.topic.value, data.envelope(source=source, subject=subject), key)
        row["headers"] = json.dumps(row["headers"])  # bound as text, cast to JSONB by the statement
        written = await database.alone(statement, {**values, **{f"outbox_{name}": row[name] for name in row}})
        if written:
            for relay in _local_relays.get(self.schema, ()):
                relay.wake()
        return bool(written)

    def _after_write(self, write: Insert) -> ReturningInsert[tuple[int]]:
        table = self.table
        names = ("shard", "topic", "key", "event_id", "event_type", "payload", "headers")
        event_row = select(
            *(
                cast(bindparam(f"outbox_{name}", type_=Text), JSONB)
                if name == "headers"
                else bindparam(f"outbox_{name}", type_=table.c[name].type)
                for name in names
            )
        ).select_from(write.cte("written"))
        return pg_insert(table).from_select(list(names), event_row).returning(table.c.id)


@dataclass(eq=False)
class OutboxRelay:
    """Publishes a service's outbox rows; run one per process, as many processes as you like."""

    database: Database
    producer: RecordPublisher
    table: Table
    _: KW_ONLY
    topic_prefix: str = ""
    shards: int = DEFAULT_SHARDS
    batch_size: int = 500
    poll_interval: float = 0.1
    lock_refresh_interval: float = 2.0
    retention: timedelta = DEFAULT_RETENTION
    owned: set[int] = field(default_factory=set, init=False)
    _wakeup: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _lock_connection: AsyncConnection | None = field(default=None, init=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.schema = self.table.schema or "public"
        self._batch = _batch_query(self.table, self.batch_size)
        self._pending = _pending_query(self.table)
        self._lock_class = outbox_lock_class(self.schema)

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> None:
        _local_relays.setdefault(self.schema, set()).add(self)
        self._task = asyncio.create_task(self.run(), name=f"outbox-relay-{self.schema}")

    def wake(self) -> None:
        """Rows were committed in this process: publish now rather than at the next poll."""
        self._wakeup.set()

    async def stop(self) -> None:
        _local_relays.get(self.schema, set()).discard(self)
        self._stopping.set()
        self._wakeup.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._release_locks()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_refresh = 0.0
        next_janitor = 0.0
        woken = True
        while not self._stopping.is_set():
            try:
                now = loop.time()
                if now >= next_refresh:
                    await self._refresh_locks()
                    next_refresh = now + self.lock_refresh_interval
                if now >= next_janitor and self.owned:
                    await self._janitor()
                    next_janitor = now + 60.0
                # A poll that no commit of this process woke usually finds nothing: it asks first,
                # one statement alone, rather than opening a batch's transaction (three round trips).
                published = await self.publish_once(look_first=not woken) if self.owned else 0
                woken = published >= self.batch_size
                if not woken:
                    woken = await self._wait(self.poll_interval if self.owned else self.lock_refresh_interval)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if database_unavailable(error):
                    # The database restarting: one line per retry, not a traceback every 0.4 s.
                    logger.warning(
                        "outbox relay: database unavailable; retrying",
                        extra={"schema": self.schema, "error": repr(error)[:200]},
                    )
                else:
                    logger.exception("outbox relay iteration failed; retrying", extra={"schema": self.schema})
                await self._release_locks()
                next_refresh = 0.0
                await self._wait(min(5.0, self.poll_interval * 4))

    async def _wait(self, seconds: float) -> bool:
        """Wait for a wake or ``seconds``; whether it was a wake."""
        woken = False
        with contextlib.suppress(TimeoutError):
            woken = await asyncio.wait_for(self._wakeup.wait(), timeout=seconds)
        self._wakeup.clear()
        return woken

    # -- shard ownership -----------------------------------------------------------

    async def _refresh_locks(self) -> None:
        if self._lock_connection is None:
            connection = await self.database.engine.connect()
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            self._lock_connection = connection
            self.owned = set()
        connection = self._lock_connection
        # Also proves the lock session is alive: if it died, its locks died with it.
        await connection.execute(text("SELECT 1"))
        for shard in range(self.shards):
            if shard in self.owned:
                continue
            got = await connection.scalar(
                text("SELECT pg_try_advisory_lock(:c, :s)"), {"c": self._lock_class, "s": shard}
            )
            if got:
                self.owned.add(shard)
                logger.info("outbox shard acquired", extra={"schema": self.schema, "shard": shard})

    async def _release_locks(self) -> None:
        connection, self._lock_connection = self._lock_connection, None
        self.owned = set()
        if connection is not None:
            # Closing the session releases every advisory lock it held.
            with contextlib.suppress(Exception):
                await connection.invalidate()
            with contextlib.suppress(Exception):
                await connection.close()

    # -- publishing -------------------------------------------------------------------

    async def publish_once(self, *, look_first: bool = False) -> int:
        """Publish one batch of this relay's shards in id order; returns how many rows.

        ``look_first``: see whether there is anything to publish before opening the batch.
        """
        if not self.owned:
            return 0
        if look_first:
            async with self.database.statements_alone() as session:
                if await session.scalar(self._pending, {"owned": sorted(self.owned)}) is None:
                    return 0
        table = self.table
        async with self.database.unit_of_work() as session:
            rows = (
                await session.execute(self._batch, {"lock_class": self._lock_class, "owned": sorted(self.owned)})
            ).all()
            if not rows:
                return 0
            acks = [
                await self.producer.enqueue(
                    physical(row.topic, self.topic_prefix),
                    row.payload,
                    key=row.key.encode(),
                    headers=[(name, value.encode()) for name, value in row.headers],
                )
                for row in rows
            ]
            # Any failed ack raises: the batch stays unpublished and is sent again.
            await asyncio.gather(*acks)
            await session.execute(
                update(table).where(any_of(table.c.id, [row.id for row in rows])).values(published_at=func.now())
            )
        OUTBOX_PUBLISHED.labels(self.schema).inc(len(rows))
        return len(rows)

    async def _janitor(self) -> None:
        table = self.table
        async with self.database.unit_of_work() as session:
            await session.execute(
                delete(table).where(
                    table.c.published_at.is_not(None),
                    table.c.published_at < func.now() - self.retention,
                )
            )
            oldest = await session.scalar(
                select(func.extract("epoch", func.now() - func.min(table.c.created_at))).where(
                    table.c.published_at.is_(None)
                )
            )
        OUTBOX_PENDING_AGE.labels(self.schema).set(float(oldest or 0.0))
