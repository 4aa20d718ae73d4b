"""What code asks of the database while a test watches: statements, transactions, checkouts.

Tests of hot paths assert these (a batch costs the same few statements whatever its
size); one recorder serves them all.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine.interfaces import ExecuteStyle
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from omnicase.devtools.devstack.postgres import EmbeddedPostgres
from omnicase.kit.db import create_engine


@dataclass
class Work:
    """Statements (whitespace collapsed, at most 120 characters), transactions begun, pool checkouts.

    ``executions`` counts what the server runs: an executemany is one statement sent but one
    execution per row (PostgreSQL binds and executes each), a set-based statement one.

    ``transactions`` counts BEGINs sent; a statement run alone (autocommit, its own
    transaction without BEGIN or COMMIT) counts in ``alone`` instead.
    """

    statements: list[str] = field(default_factory=list)
    executions: int = 0
    transactions: int = 0
    alone: int = 0
    checkouts: int = 0


@dataclass
class DatabaseWork:
    """Everything recorded, and the same per asyncio task (an SMTP session, a request, a loop)."""

    by_task: defaultdict[asyncio.Task[Any] | None, Work] = field(default_factory=lambda: defaultdict(Work))

    @property
    def statements(self) -> list[str]:
        return [statement for work in self.by_task.values() for statement in work.statements]

    @property
    def executions(self) -> int:
        return sum(work.executions for work in self.by_task.values())

    def of(self, task: asyncio.Task[Any] | None) -> Work:
        return self.by_task[task]

    def named(self, name: str) -> Work:
        """The work of the tasks named ``name`` (a service's own task, such as a coalescer's), together."""
        together = Work()
        for task, work in self.by_task.items():
            if task is not None and task.get_name() == name:
                together.statements += work.statements
                together.executions += work.executions
                together.transactions += work.transactions
                together.alone += work.alone
                together.checkouts += work.checkouts
        return together


def _engine_of(target: AsyncEngine | AsyncSession) -> AsyncEngine:
    if isinstance(target, AsyncEngine):
        return target
    bind = target.bind
    return bind if isinstance(bind, AsyncEngine) else bind.engine  # type: ignore[union-attr]


@contextmanager
def database_work(
    target: AsyncEngine | AsyncSession, *, savepoints: bool = False, whole_statements: bool = False
) -> Iterator[DatabaseWork]:
    """Record what ``target``'s engine is asked to do while inside (savepoint statements only if asked;
    statements cut to 120 characters unless ``whole_statements``)."""
    engine = _engine_of(target).sync_engine
    work = DatabaseWork()

    cut = None if whole_statements else 120

    def statement(conn: Any, cursor: Any, sql: str, parameters: Any, context: Any, executemany: bool) -> None:
        if savepoints or "SAVEPOINT" not in sql:
            recorded = work.by_task[asyncio.current_task()]
            recorded.statements.append(" ".join(sql.split())[:cut])
            # A multi-row VALUES (SQLAlchemy's "insertmanyvalues") is one execution of many parameters.
            one_per_row = executemany and context.execute_style is ExecuteStyle.EXECUTEMANY
            recorded.executions += len(parameters) if one_per_row else 1

    def begin(conn: Any) -> None:
        recorded = work.by_task[asyncio.current_task()]
        if conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
            recorded.alone += 1
        else:
            recorded.transactions += 1

    def checkout(*args: Any) -> None:
        work.by_task[asyncio.current_task()].checkouts += 1

    listeners: list[tuple[Any, str, Any]] = [
        (engine, "before_cursor_execute", statement),
        (engine, "begin", begin),
        (engine.pool, "checkout", checkout),
    ]
    for target_, name, listener in listeners:
        event.listen(target_, name, listener)
    try:
        yield work
    finally:
        for target_, name, listener in listeners:
            event.remove(target_, name, listener)


def run_statements(url: str, statements: list[tuple[str, dict[str, object]]]) -> list[list[tuple[object, ...]]]:
    """Run ``statements`` (SQL with its values) in one committed transaction on the database at
    ``url``, from a synchronous test (a migration's test filling a database of its own); each
    statement's rows, [] for one that returns none."""

    async def run() -> list[list[tuple[object, ...]]]:
        engine = create_engine(url, pool_size=1)
        try:
            async with engine.begin() as connection:
                results = []
                for statement, values in statements:
                    result = await connection.execute(text(statement), values)
                    results.append([tuple(row) for row in result] if result.returns_rows else [])
                return results
        finally:
            await engine.dispose()

    return asyncio.run(run())


def fresh_database(server: EmbeddedPostgres, name: str) -> str:
    """The URL of database ``name`` on ``server``, made afresh (dropped first if a run before left it):
    for a migration's test, which migrates it to a revision, fills it, then runs the migration once."""
    server.psql(f"DROP DATABASE IF EXISTS {name}")
    server.ensure_database(name)
    return server.url(name)
