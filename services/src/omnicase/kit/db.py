"""Database access shared by every service.

- :func:`service_metadata`: a ``MetaData`` bound to the service's own schema, with
  a naming convention so constraint names are stable across migrations.
- :func:`create_engine`: the async engine, built in the app's lifespan, never at import.
  A connection is pinged on checkout only when it sat idle in the pool for
  ``ping_after_idle_seconds`` (a busy pool pings nothing: SQLAlchemy's ``pool_pre_ping``
  cost a ping, with asyncpg a BEGIN + ``;`` + ROLLBACK, on every checkout). After a
  PostgreSQL restart under load, the first statement on a dead connection fails with
  a disconnect error (``connection_invalidated``): SQLAlchemy then invalidates every
  connection of the pool opened before it, so the next checkouts connect afresh. The
  failing request is answered as any storage failure (SMTP 451, HTTP 503, a consumer
  retries the batch), never as a success.
- Statements SQLAlchemy cannot cache (a multi-row ``.values([...])``, a ``values()``
  list of rows) are compiled again on every call, a cost that dominated some hot paths.
  The engine logs a warning the first time each such statement runs; pass the rows as
  parameters (``session.execute(insert(t), rows)``) or as arrays (``unnest``) instead.
- :class:`Database`: engine + session factory; :meth:`Database.unit_of_work` opens one
  transaction that commits on success and rolls back on error. Services and
  repositories only ``flush()``; committing is the kit's job. A transaction that is one
  statement runs through :meth:`Database.alone`: one round trip instead of a BEGIN, the
  statement and a COMMIT (and :func:`without_flush_wait` lets it skip the WAL flush wait).
- :func:`session_dependency`: the FastAPI dependency giving each request one session
  whose transaction commits *before* the response is sent.
- :func:`database_unavailable`: whether an error means the database cannot be reached
  right now (down, restarting, connection lost), so the caller should try again later.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any, ClassVar, TypeVar

from fastapi import Depends, Request
from sqlalchemy import (
    JSON,
    BindParameter,
    Column,
    ColumnElement,
    Executable,
    MetaData,
    Row,
    Select,
    Table,
    Text,
    Update,
    any_,
    bindparam,
    case,
    cast,
    column,
    event,
    exc,
    func,
    literal_column,
    null,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, Insert, insert
from sqlalchemy.engine.default import NO_CACHE_KEY
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)
from sqlalchemy.ext.asyncio import (
    create_async_engine as _create_async_engine,
)

logger = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def any_of(column: ColumnElement[Any], values: Collection[Any]) -> ColumnElement[bool]:
    """``column = ANY(:values)``: one array parameter, so the same SQL text for any number of
    values. ``column.in_(values)`` renders one placeholder per value, a new statement text for
    every batch size, which the connections' prepared-statement caches cannot keep up with
    (each new text is parsed and planned again by the server)."""
    return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))


class UnnestedRows:
    """Rows of one shape written by one statement, an array parameter per column: :attr:`insert`
    is ``INSERT INTO table (names) SELECT … FROM unnest(:name, …) WITH ORDINALITY ORDER BY
    position``, :meth:`update` is ``UPDATE table SET name = batch.name, … FROM unnest(…) AS
    batch WHERE table.key = batch.key``.

    PostgreSQL plans and runs one insert (or update) for the whole batch, in the rows' order,
    where an executemany runs the statement once per row. JSON columns are bound as text
    arrays and cast (a list value would read as an array dimension); array columns are bound
    as JSON text too and turned back into arrays (unnest flattens a two-dimensional array,
    which would also have to be rectangular). :meth:`of` builds one per shape, once; an upsert
    adds its ``ON CONFLICT`` to :attr:`insert` (each key at most once per batch: PostgreSQL
    refuses to update a row twice in one statement, and an update would apply only one).
    """

    _built: ClassVar[dict[tuple[Table, tuple[str, ...]], UnnestedRows]] = {}

    @classmethod
    def of(cls, table: Table, names: Sequence[str]) -> UnnestedRows:
        """The statement for rows of these columns, built on first use and kept."""
        key = (table, tuple(names))
        built = cls._built.get(key)
        if built is None:
            built = cls._built[key] = cls(table, names)
        return built

    def __init__(self, table: Table, names: Sequence[str]) -> None:
        columns = [table.c[name] for name in names]
        self.json = frozenset(c.name for c in columns if isinstance(c.type, JSON | ARRAY))
        bound = [Text() if c.name in self.json else c.type for c in columns]
        batch = (
            func.unnest(
                *(bindparam(f"batch_{c.name}", type_=ARRAY(kind)) for c, kind in zip(columns, bound, strict=True))
            )
            .table_valued(
                *(column(c.name, kind) for c, kind in zip(columns, bound, strict=True)), with_ordinality="position"
            )
            .render_derived(name="batch")
        )
        self.table = table
        self.names = tuple(names)
        self._batch = batch
        self._values = {c.name: _batch_value(c, batch.c[c.name]) for c in columns}
        self.insert: Insert = insert(table).from_select(
            list(names), select(*self._values.values()).order_by(batch.c.position)
        )
        self._upserts: dict[tuple[str, ...], Insert] = {}
        self._updates: dict[tuple[tuple[str, ...], frozenset[str]], Update] = {}

    def upsert(self, key: Sequence[str]) -> Insert:
        """:attr:`insert`, updating every other column of a row whose ``key`` exists (built once)."""
        statement = self._upserts.get(tuple(key))
        if statement is None:
            new = self.insert.excluded
            statement = self._upserts[tuple(key)] = self.insert.on_conflict_do_update(
                index_elements=list(key), set_={name: new[name] for name in self.names if name not in key}
            )
        return statement

    def update(self, key: Sequence[str], *, add: Collection[str] = ()) -> Update:
        """Every other column set on the row whose ``key`` columns match (built once); a column
        named in ``add`` gets the row's value added to it instead (an increment: correct on rows
        the caller holds locked, whatever their value was when read). Rows matching no table
        row change nothing."""
        built = (tuple(key), frozenset(add))
        statement = self._updates.get(built)
        if statement is None:
            values = {
                self.table.c[name]: self.table.c[name] + value if name in add else value
                for name, value in self._values.items()
                if name not in key
            }
            statement = self._updates[built] = (
                update(self.table).where(*(self.table.c[name] == self._values[name] for name in key)).values(values)
            )
        return statement

    def parameters(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
        # Named apart from the columns (an UPDATE reserves their names for its SET clause). JSON
        # as the JSON type binds it: None is the JSON null; an array column's None is NULL.
        return {f"batch_{name}": self._bound(name, [row[name] for row in rows]) for name in rows[0]}

    def _bound(self, name: str, values: list[Any]) -> list[Any]:
        if name not in self.json:
            return values
        if isinstance(self.table.c[name].type, ARRAY):
            return [None if value is None else json.dumps(list(value), default=str) for value in values]
        return [json.dumps(value) for value in values]


def _batch_value(target: Column[Any], bound: ColumnElement[Any]) -> ColumnElement[Any]:
    """The batch's column as ``target``'s type: JSON text cast, an array rebuilt from its JSON text."""
    if isinstance(target.type, ARRAY):
        elements = (
            func.jsonb_array_elements_text(cast(bound, JSONB))
            .table_valued("value", with_ordinality="position")
            .render_derived(name="element")
        )
        rebuilt = func.array(select(elements.c.value).order_by(elements.c.position).scalar_subquery())
        return case((bound.is_(None), null()), else_=cast(rebuilt, target.type))
    if isinstance(target.type, JSON):
        return cast(bound, target.type)
    return bound


def named_values(table: Table, names: Collection[str]) -> dict[str, BindParameter[Any]]:
    """Values for ``table.insert().values(…)`` of the columns ``names``, each a parameter of its
    column's name and type: an INSERT so built can be part of another statement (a data-modifying
    WITH, :meth:`~omnicase.kit.outbox.Outbox.write_alone`), where values given only at execution
    would name no column."""
    return {name: bindparam(name, type_=table.c[name].type) for name in names}


def insert_rows(table: Table, rows: Sequence[Mapping[str, Any]]) -> tuple[Executable, Any]:
    """The statement and parameters inserting ``rows`` (every row the same columns) in one execution.

    Unnested (:class:`UnnestedRows`) for two rows or more, in their order; a single row as a
    plain insert.
    """
    if len(rows) == 1:
        return table.insert(), list(rows)
    unnested = UnnestedRows.of(table, tuple(rows[0]))
    return unnested.insert, unnested.parameters(rows)


def update_rows(
    table: Table, key: Sequence[str], rows: Sequence[Mapping[str, Any]], *, add: Collection[str] = ()
) -> tuple[Executable, Any]:
    """The statement and parameters setting each row's columns on the table row its ``key``
    columns name, in one execution (:meth:`UnnestedRows.update`; every row the same columns,
    each key at most once)."""
    unnested = UnnestedRows.of(table, tuple(rows[0]))
    return unnested.update(key, add=add), unnested.parameters(rows)


def service_metadata(schema: str) -> MetaData:
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


def create_engine(
    url: str, *, pool_size: int = 10, application_name: str = "omnicase", ping_after_idle_seconds: float = 2.0
) -> AsyncEngine:
    engine = _create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"server_settings": {"application_name": application_name}},
    )
    _ping_when_idle(engine, ping_after_idle_seconds)
    _warn_when_uncacheable(engine)
    return engine


# Statements with no cache key that are cheap to compile, or run once (migrations).
_ALWAYS_UNCACHED = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "CREATE", "ALTER", "DROP", "COMMENT")


def _warn_when_uncacheable(engine: AsyncEngine) -> None:
    """Log once per statement text that SQLAlchemy compiles again on every execution."""
    warned: set[str] = set()

    def executed(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if getattr(context, "cache_hit", None) is not NO_CACHE_KEY:
            return
        text_start = statement.lstrip()[:120]
        if text_start.upper().startswith(_ALWAYS_UNCACHED) or text_start in warned:
            return
        warned.add(text_start)
        logger.warning(
            "statement compiled on every execution (SQLAlchemy cannot cache it): pass rows as parameters",
            extra={"statement": text_start},
        )

    event.listen(engine.sync_engine, "after_cursor_execute", executed)


_CHECKED_IN_AT = "omnicase_checked_in_at"


def _ping_when_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Ping a connection on checkout only when it sat in the pool ``idle_seconds`` or more."""
    dialect = engine.sync_engine.dialect

    def checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    def checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.pop(_CHECKED_IN_AT, None)
        if since is None or time.monotonic() - since < idle_seconds:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool drops this connection and checks out another (a fresh one if need be).
            raise exc.DisconnectionError("connection found dead on checkout") from error

    event.listen(engine.sync_engine.pool, "checkin", checked_in)
    event.listen(engine.sync_engine.pool, "checkout", checked_out)


# SQLSTATE classes of a server that is gone or going: 08 connection exception, 57 operator
# intervention (admin shutdown, crash shutdown, "the database system is starting up").
_UNAVAILABLE_SQLSTATE_CLASSES = frozenset({"08", "57"})


def database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` says the database cannot be reached now rather than that the work was wrong.

    True for refused, reset and timed-out connections, connections the pool invalidated
    because the server went away, and the server refusing while it shuts down or starts
    up (crash recovery). A transaction that failed so did not commit, or did so before
    the connection broke: either way the caller answers "try again" (HTTP 503, SMTP 451)
    and the client's retry is deduplicated by whatever idempotency key the operation has.
    """
    if isinstance(error, ConnectionError | TimeoutError):
        return True
    if isinstance(error, DBAPIError):
        if error.connection_invalidated or isinstance(error, OperationalError | InterfaceError):
            return True
        sqlstate = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
        if isinstance(sqlstate, str) and sqlstate[:2] in _UNAVAILABLE_SQLSTATE_CLASSES:
            return True
        return isinstance(error.orig, ConnectionError | TimeoutError)
    return False


_COMMIT_WITHOUT_FLUSH_WAIT = text("SET LOCAL synchronous_commit = off")

_Selected = TypeVar("_Selected", bound=tuple[Any, ...])


def without_flush_wait(statement: Select[_Selected]) -> Select[_Selected]:
    """``statement`` made to commit without waiting for the WAL flush when it runs :meth:`~Database.alone`.

    The setting is made inside the statement (``set_config(..., true)`` lasts until its own
    transaction ends, after the commit that reads it), so it costs no round trip of its own.
    The same rule as ``unit_of_work(wait_for_flush=False)`` says when that is allowed.
    """
    off = func.set_config(literal_column("'synchronous_commit'"), literal_column("'off'"), true())
    setting = select(off.label("synchronous_commit"))
    return statement.join(setting.cte("without_flush_wait"), true())


class Database:
    """One service's engine and session factory."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)

    @asynccontextmanager
    async def unit_of_work(self, *, wait_for_flush: bool = True) -> AsyncIterator[AsyncSession]:
        """One transaction: commit when the block ends, roll back if it raises.

        ``wait_for_flush=False`` commits without waiting for the WAL flush, so its row locks
        are released at once: for a hot counter row that every request updates, where waiting
        would queue each request behind the one before's flush (no group commit). Only for
        writes a later durable commit of the same work makes durable (the WAL is flushed in
        order, so a counter committed before its request's durable commit is on disk when
        that commit is), or that a crash may lose.
        """
        async with self.sessions() as session, session.begin():
            if not wait_for_flush:
                await session.execute(_COMMIT_WITHOUT_FLUSH_WAIT)
            yield session

    @asynccontextmanager
    async def _autocommit(self) -> AsyncIterator[AsyncConnection]:
        # PostgreSQL commits a statement sent outside a transaction block when it ends (and
        # rolls it back whole if it fails): no BEGIN or COMMIT round trip around it.
        async with self.engine.connect() as connection:
            yield await connection.execution_options(isolation_level="AUTOCOMMIT")

    async def alone(self, statement: Executable, params: Mapping[str, Any] | None = None) -> Sequence[Row[Any]]:
        """Run ``statement`` as its own transaction: one round trip, no BEGIN or COMMIT around it.

        For a write that is one statement (data-modifying CTEs included). Its rows are read
        before the connection goes back to the pool.
        """
        async with self._autocommit() as connection:
            result = await connection.execute(statement, params)
            return result.all() if result.returns_rows else []

    @asynccontextmanager
    async def statements_alone(self) -> AsyncIterator[AsyncSession]:
        """A session whose statements each run alone, as :meth:`alone` runs one.

        For reads that need no snapshot shared between them (a check before a batch): each is
        one round trip where a unit of work would add a BEGIN and a COMMIT.
        """
        async with self._autocommit() as connection, AsyncSession(bind=connection, autoflush=False) as session:
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    database: Database = request.app.state.database
    async with database.unit_of_work() as session:
        yield session


# scope="function": the transaction ends (commit or rollback) when the route
# returns, before the response is sent, so a 2xx always means "committed".
SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]
