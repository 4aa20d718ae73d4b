"""Rules kept in evaluation order: SLA policies and automations share one shape.

Each is one table whose rows are read back as one record model, listed by ``(position, id)``,
given the next free position when created without one, and read whole (the active ones, in
order) by the configuration cache; every change asks for a resync, so cases already open pick
it up (:mod:`omnicase.sla_engine.resync`). What differs, which table, which record, what a
valid rule is and its columns, each domain says in its own repository and service.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.clock import utcnow
from omnicase.kit.errors import NotFound
from omnicase.kit.ids import uuid7
from omnicase.kit.pagination import Int32, Page, decode_cursor
from omnicase.kit.repository import TableRepository
from omnicase.sla_engine.resync import request_resync


class Placed(Protocol):
    """A stored rule: where it stands in evaluation order."""

    @property
    def position(self) -> int: ...


class Placing(Protocol):
    """A rule as a request gives it: a position, or none for after the others (a new rule) or where it was."""

    @property
    def position(self) -> int | None: ...


RuleT = TypeVar("RuleT", bound=Placed)
BodyT = TypeVar("BodyT", bound=Placing)


class OrderedRepository(TableRepository[RuleT]):
    """The queries on one table of rules (the kit's :class:`TableRepository`'s), and theirs by position."""

    async def next_position(self) -> int:
        highest = func.coalesce(func.max(self.table.c.position) + 1, 0)
        return int(await self.session.scalar(select(highest)) or 0)

    async def in_order(self, after: tuple[int, uuid.UUID] | None, limit: int) -> Page[RuleT]:
        c = self.table.c
        query = select(self.table).order_by(c.position, c.id)
        if after is not None:
            query = query.where(tuple_(c.position, c.id) > tuple_(*after))
        return await self.paginate(
            self.page_type, query, limit, key=lambda row: [row.position, row.id], item=self.record
        )

    async def active_in_order(self) -> list[RuleT]:
        c = self.table.c
        query = select(self.table).where(c.active).order_by(c.position, c.id)
        return [self.record(row) for row in await self.session.execute(query)]


class OrderedRules(ABC, Generic[BodyT, RuleT]):
    """Create, read, list, replace and delete rules of one kind, on the session of one request.

    A domain gives its repository and says what a valid body is (:meth:`check`), which columns
    a body sets (:meth:`columns`) and the error for a rule that does not exist (:meth:`missing`).
    """

    def __init__(self, session: AsyncSession, repository: OrderedRepository[RuleT]) -> None:
        self.session = session
        self.repository = repository

    async def check(self, payload: BodyT) -> None:
        """Refuse (``refusal``) a body the stored configuration does not allow."""

    @abstractmethod
    def columns(self, payload: BodyT) -> dict[str, Any]:
        """The columns ``payload`` sets."""

    @abstractmethod
    def missing(self, rule_id: uuid.UUID) -> NotFound:
        """The error for a rule ``rule_id`` that does not exist."""

    async def page(self, cursor: str | None, limit: int) -> Page[RuleT]:
        """The rules in evaluation order, a page after ``cursor``."""
        return await self.repository.in_order(decode_cursor(cursor, Int32, uuid.UUID), limit)

    async def create(self, payload: BodyT) -> RuleT:
        await self.check(payload)
        now = utcnow()
        position = payload.position if payload.position is not None else await self.repository.next_position()
        rule = await self.repository.insert(
            {"id": uuid7(), "position": position, "created_at": now, "updated_at": now, **self.columns(payload)}
        )
        await request_resync(self.session)
        return rule

    async def get(self, rule_id: uuid.UUID) -> RuleT:
        return await self.repository.get_or_raise(rule_id, self.missing)

    async def replace(self, rule_id: uuid.UUID, payload: BodyT) -> RuleT:
        current = await self.get(rule_id)
        await self.check(payload)
        position = payload.position if payload.position is not None else current.position
        updated = await self.repository.update(
            rule_id, {"position": position, "updated_at": utcnow(), **self.columns(payload)}
        )
        assert updated is not None
        await request_resync(self.session)
        return updated

    async def delete(self, rule_id: uuid.UUID) -> None:
        if not await self.repository.delete(rule_id):
            raise self.missing(rule_id)
        await request_resync(self.session)
