"""The base of every repository: one domain's queries on the session of one unit of work.

A repository is built on the session of the request or consumed batch it serves
(``PolicyRepository(session)``), holds it, and answers typed frozen records (pydantic
models or frozen dataclasses), never rows. It ``flush()``es when it must and never commits:
the kit's unit of work does.

Two shapes every repository shares live here: :meth:`Repository.get_or_raise` (a record by
its key, or the domain's not-found error, for a repository whose ``get(key)`` answers the
record or None) and :meth:`Repository.paginate` (a list's page from a statement already
ordered and placed after the cursor's key).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy import Row, Select
from sqlalchemy.ext.asyncio import AsyncSession

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
