"""The base of every repository: one domain's queries on the session of one unit of work.

A repository is built on the session of the request or consumed batch it serves
(``PolicyRepository(session)``), holds it, and answers typed frozen records (pydantic
models or frozen dataclasses), never rows. It ``flush()``es when it must and never commits:
the kit's unit of work does.

Two shapes every repository shares live here: :meth:`Repository.get_or_raise` (a record by
its key, or the domain's not-found error, for a repository whose ``get(key)`` answers the
record or None) and :meth:`Repository.paginate` (a list's page from a statement already
ordered and placed after the cursor's key). A repository of one table keyed by ``id``
subclasses :class:`TableRepository`, which has the queries such a table always needs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Row, Select, Table, delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.db import any_of
from omnicase.kit.errors import ServiceError
from omnicase.kit.pagination import Page, paginate

K = TypeVar("K")
R = TypeVar("R")
T = TypeVar("T")
K_contra = TypeVar("K_contra", contravariant=True)
R_co = TypeVar("R_co", covariant=True)


class Keyed(Protocol[K_contra, R_co]):
    """A repository that finds one record by its key."""

    async def get(self, key: K_contra, /) -> R_co | None: ...


class Repository:
    """Queries on ``session``, the session of one request or consumed batch."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_or_raise(self: Keyed[K, R], key: K, missing: Callable[[K], ServiceError]) -> R:
        """The record ``key`` names; ``missing(key)`` is raised when there is none."""
        record = await self.get(key)
        if record is None:
            raise missing(key)
        return record

    async def paginate(
        self,
        page: type[Page[T]],
        statement: Select[Any],
        limit: int,
        *,
        key: Callable[[Row[Any]], Sequence[Any]],
        item: Callable[[Row[Any]], T],
    ) -> Page[T]:
        """The page of ``statement`` (ordered, after the cursor's key): ``limit`` items of ``item(row)``
        and the cursor after the last when a further row exists (``key(row)`` is a row's sort key)."""
        rows = (await self.session.execute(statement.limit(limit + 1))).all()
        return paginate(page, rows, limit, key=key, item=item)


class TableRepository(Repository, Generic[T]):
    """The queries every repository of one table keyed by ``id`` has, each row read as ``record(row)``.

    ``get``; ``insert`` and ``update`` (answering the row as stored, ``update`` None for no
    such row); ``delete`` (whether a row went); ``existing`` (which of some ids there are);
    ``taken`` (whether another row has a unique value); ``page`` (by id, after the cursor's
    id, as ``page``). A domain's own queries sit beside them in its subclass.
    """

    def __init__(
        self, session: AsyncSession, table: Table, page: type[Page[T]], record: Callable[[Row[Any]], T]
    ) -> None:
        super().__init__(session)
        self.table = table
        self.page_type = page
        self.record = record

    async def get(self, key: uuid.UUID) -> T | None:
        row = (await self.session.execute(select(self.table).where(self.table.c.id == key))).one_or_none()
        return self.record(row) if row else None

    async def insert(self, values: Mapping[str, Any]) -> T:
        statement = self.table.insert().values(**values).returning(*self.table.c)
        return self.record((await self.session.execute(statement)).one())

    async def update(self, key: uuid.UUID, values: Mapping[str, Any]) -> T | None:
        statement = update(self.table).where(self.table.c.id == key).values(**values).returning(*self.table.c)
        row = (await self.session.execute(statement)).one_or_none()
        return self.record(row) if row else None

    async def delete(self, key: uuid.UUID) -> bool:
        result = await self.session.execute(delete(self.table).where(self.table.c.id == key))
        return bool(getattr(result, "rowcount", 0))

    async def existing(self, keys: Collection[uuid.UUID]) -> set[uuid.UUID]:
        if not keys:
            return set()
        return set((await self.session.scalars(select(self.table.c.id).where(any_of(self.table.c.id, keys)))).all())

    async def taken(self, column: str, value: Any, *, other_than: uuid.UUID | None = None) -> bool:
        """Whether a row (other than ``other_than``) has ``value`` in the unique ``column``."""
        condition = self.table.c[column] == value
        if other_than is not None:
            condition = condition & (self.table.c.id != other_than)
        return bool(await self.session.scalar(select(exists().where(condition))))

    async def page(self, after: uuid.UUID | None, limit: int) -> Page[T]:
        statement = select(self.table).order_by(self.table.c.id)
        if after is not None:
            statement = statement.where(self.table.c.id > after)
        return await self.paginate(self.page_type, statement, limit, key=lambda row: [row.id], item=self.record)
