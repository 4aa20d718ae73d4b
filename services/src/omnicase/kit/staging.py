"""Rows a transaction inserts at its end: one INSERT executed for all of them, just before it commits.

Append-only rows nothing reads back within the transaction (outbox rows, a case's history)
need not cost a round trip each: :func:`stage` keeps them in the session and a session
``before_commit`` hook writes them, per table, in the order they were staged, as one
statement (one round trip: ``INSERT … SELECT … FROM unnest(…) WITH ORDINALITY`` with a
column per array, so PostgreSQL plans and runs one insert however many rows; an
executemany would run one per row), so their ids follow commit order.
Rows staged inside a savepoint that rolls back are dropped with it; a released savepoint's
rows stay staged until the transaction itself commits. :func:`flush_staged` writes them
earlier, for a transaction that must read them (tests do).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from omnicase.kit.db import insert_rows

_STAGED = "omnicase.staging.rows"
# Called after a table's staged rows are written (the outbox wakes its relays).
_written_hooks: list[Callable[[Session, Table], None]] = []


@dataclass(frozen=True)
class _Staged:
    transaction: SessionTransaction
    table: Table
    row: dict[str, Any]


def on_written(hook: Callable[[Session, Table], None]) -> None:
    """Call ``hook(session, table)`` whenever staged rows of ``table`` are written."""
    _written_hooks.append(hook)


async def stage(session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` into ``table`` when this transaction commits (in the current savepoint, if any)."""
    if not rows:
        return
    await session.connection()  # begins the transaction if nothing did yet, as a write would
    sync = session.sync_session
    transaction = sync.get_nested_transaction() or sync.get_transaction()
    if transaction is None:
        raise RuntimeError("the session began no transaction to stage rows in")
    staged: list[_Staged] = session.info.setdefault(_STAGED, [])
    staged += [_Staged(transaction, table, row) for row in rows]


async def flush_staged(session: AsyncSession) -> None:
    """Write the rows staged so far now, so this transaction can read them.

    Inside a savepoint, only if every staged row was staged inside it: a row staged before
    the savepoint, written in it, would be undone with it.
    """
    current = session.sync_session.get_nested_transaction()
    staged: list[_Staged] = session.info.get(_STAGED, [])
    if current is not None and not all(_within(item.transaction, current) for item in staged):
        raise RuntimeError("rows staged before this savepoint are written only when the transaction commits")
    await session.run_sync(_write_staged)


@event.listens_for(Session, "before_commit")
def _write_staged_at_commit(session: Session) -> None:
    # Fires for savepoint releases too: their rows stay staged (their transaction's parent
    # may still roll back) until the transaction itself commits.
    if not session.in_nested_transaction():
        _write_staged(session)


def _write_staged(session: Session) -> None:
    staged: list[_Staged] | None = session.info.pop(_STAGED, None)
    if not staged:
        return
    by_table: dict[Table, list[dict[str, Any]]] = {}
    for item in staged:
        by_table.setdefault(item.table, []).append(item.row)
    for table, rows in by_table.items():
        # Runs inside the async session's greenlet, so the sync API reaches the database.
        session.execute(*insert_rows(table, rows))
        for hook in _written_hooks:
            hook(session, table)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    """Drop the rows staged in the transaction that rolled back, or in any savepoint inside it."""
    if previous_transaction.parent is None:
        session.info.pop(_STAGED, None)
        return
    staged: list[_Staged] = session.info.get(_STAGED, [])
    session.info[_STAGED] = [item for item in staged if not _within(item.transaction, previous_transaction)]


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False
