"""Every query about cases and their history, answering typed records."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import (
    ColumnElement,
    RowMapping,
    Text,
    Uuid,
    and_,
    bindparam,
    event,
    func,
    literal_column,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from omnicase.case_core.models import case_history, cases
from omnicase.case_core.records import column_values
from omnicase.kit.repository import Repository
from omnicase.kit.staging import stage

# English stemming ("printers" finds "printer"); subject weighted A so ranked search
# can be added without rebuilding the vectors.
SEARCH_CONFIG = "english"

CASE_COLUMNS = [column for column in cases.c if column.name not in {"search"}]


@dataclass(frozen=True)
class NewCaseRow:
    """A case as it is inserted: its number comes from its sequence, and it has no followers, merge,
    public reply, close or rating yet (those columns' defaults)."""

    id: uuid.UUID
    ref_token: str  # the hidden reference that threads replies into the case
    subject: str
    description: str
    status: str
    priority: str
    type: str | None
    channel: str
    requester_id: uuid.UUID | None
    organization_id: uuid.UUID | None
    assignee_id: uuid.UUID | None
    group_id: uuid.UUID | None
    brand: str | None
    brand_id: uuid.UUID | None  # the brand ``brand`` (its slug) names, if one is defined
    tags: tuple[str, ...]
    custom_fields: Mapping[str, Any]
    language: str | None
    conversation_id: str | None
    follow_up_of: uuid.UUID | None
    problem_id: uuid.UUID | None
    version: int
    created_at: datetime
    updated_at: datetime
    solved_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class CaseRow(NewCaseRow):
    """A case as stored (every column but the search vector)."""

    number: int
    followers: tuple[uuid.UUID, ...]
    merged_into: uuid.UUID | None
    first_public_reply_at: datetime | None
    closed_at: datetime | None
    satisfaction: Mapping[str, Any] | None = None  # {rating, reason, comment, rated_at, survey_id}


class CaseValues(TypedDict, total=False):
    """Columns of a case to set, by name, and their values (what a change writes)."""

    # What a change asks for (CaseChanges) ...
    subject: str
    status: str
    priority: str
    type: str | None
    assignee_id: uuid.UUID | None
    group_id: uuid.UUID | None
    brand: str | None
    requester_id: uuid.UUID | None
    tags: Sequence[str]
    followers: Sequence[uuid.UUID]
    problem_id: uuid.UUID | None
    language: str | None
    custom_fields: Mapping[str, Any]
    # ... and what follows from it, or from a message, merge or rating.
    brand_id: uuid.UUID | None
    organization_id: uuid.UUID | None
    merged_into: uuid.UUID | None
    conversation_id: str | None
    first_public_reply_at: datetime | None
    solved_at: datetime | None
    closed_at: datetime | None
    satisfaction: Mapping[str, Any] | None
    version: int
    updated_at: datetime


def case_record(row: RowMapping) -> CaseRow:
    """The record of a row selected as :data:`CASE_COLUMNS` (array columns become tuples)."""
    return CaseRow(
        id=row["id"],
        number=row["number"],
        ref_token=row["ref_token"],
        subject=row["subject"],
        description=row["description"],
        status=row["status"],
        priority=row["priority"],
        type=row["type"],
        channel=row["channel"],
        requester_id=row["requester_id"],
        organization_id=row["organization_id"],
        assignee_id=row["assignee_id"],
        group_id=row["group_id"],
        brand=row["brand"],
        tags=tuple(row["tags"]),
        custom_fields=row["custom_fields"],
        followers=tuple(row["followers"]),
        language=row["language"],
        conversation_id=row["conversation_id"],
        follow_up_of=row["follow_up_of"],
        problem_id=row["problem_id"],
        merged_into=row["merged_into"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        first_public_reply_at=row["first_public_reply_at"],
        solved_at=row["solved_at"],
        closed_at=row["closed_at"],
        satisfaction=row["satisfaction"],
        brand_id=row["brand_id"],
    )


@dataclass(frozen=True)
class NewHistoryRow:
    """A change to a case as its history records it (its id comes from the sequence when it is written)."""

    case_id: uuid.UUID
    version: int  # the case's, after the change
    actor: str
    via: str
    field: str
    old: Any  # JSON
    new: Any  # JSON
    at: datetime


@dataclass(frozen=True, kw_only=True)
class CaseHistoryRow(NewHistoryRow):
    """A change to a case as its history holds it."""

    id: int


def search_vector(text: str | ColumnElement[str], weight: str = "D") -> ColumnElement[Any]:
    if weight not in {"A", "B", "C", "D"}:
        raise ValueError(f"not a tsvector weight: {weight!r}")
    return func.setweight(func.to_tsvector(literal_column(f"'{SEARCH_CONFIG}'"), text), literal_column(f"'{weight}'"))


def case_search_vector() -> ColumnElement[Any]:
    """A new case's search vector, of the parameters ``search_subject`` and ``search_text``."""
    return search_vector(bindparam("search_subject", type_=Text), "A").op("||")(
        search_vector(bindparam("search_text", type_=Text))
    )


# Built once, the columns given at execution (every new case runs it; building its ~25 values per
# call cost more than running it). Only the search vector is an expression of the parameters.
_INSERT_CASE = cases.insert().values(search=case_search_vector()).returning(*CASE_COLUMNS)
_GET_CASE = select(*CASE_COLUMNS).where(cases.c.id == bindparam("case_key", type_=Uuid))
_GET_CASE_FOR_UPDATE = _GET_CASE.with_for_update(of=cases)
# In id order, as every batch locks them: two batches sharing cases never wait on each other in a circle.
_LOCK_CASES = (
    select(*CASE_COLUMNS)
    .where(cases.c.id == func.any(bindparam("case_keys", type_=ARRAY(Uuid))))
    .order_by(cases.c.id)
    .with_for_update(of=cases)
)
# The same for every change: the changed columns are the execution's parameters.
_UPDATE_CASE = cases.update().where(cases.c.id == bindparam("case_key", type_=Uuid)).returning(*CASE_COLUMNS)
_UPDATE_CASE_AND_SEARCH = _UPDATE_CASE.values(
    search=cases.c.search.op("||")(search_vector(bindparam("search_text", type_=Text)))
)


@dataclass
class CaseFilters:
    status: Sequence[str] = ()
    priority: Sequence[str] = ()
    channel: Sequence[str] = ()
    type: Sequence[str] = ()
    tags: Sequence[str] = ()
    assignee_id: uuid.UUID | None = None
    unassigned: bool = False
    group_id: uuid.UUID | None = None
    brand: str | None = None
    brand_id: uuid.UUID | None = None
    requester_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None
    problem_id: uuid.UUID | None = None
    # Set by the access rules, never by the caller: a customer's own cases or organization's.
    visible_requester_id: uuid.UUID | None = None
    visible_organization_id: uuid.UUID | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    solved_after: datetime | None = None
    solved_before: datetime | None = None
    q: str | None = None


CaseKey = tuple[datetime | int, uuid.UUID]
"""Where a page of cases starts: after the case with this sort value (a time, or a number) and id."""

SORTS = {
    "created_at": (cases.c.created_at, False),
    "-created_at": (cases.c.created_at, True),
    "updated_at": (cases.c.updated_at, False),
    "-updated_at": (cases.c.updated_at, True),
    "number": (cases.c.number, False),
    "-number": (cases.c.number, True),
}


_HELD = "omnicase.case_core.held_cases"


def _held(session: AsyncSession) -> dict[uuid.UUID, CaseRow]:
    """The cases this session's transaction holds (locked or inserted by it), as they stand now.

    No other transaction can change a case this one holds, and this one changes cases only
    through :class:`CaseRepository`, which keeps them here: reading one again needs no query.
    """
    transaction = session.sync_session.get_transaction()
    kept: tuple[SessionTransaction | None, dict[uuid.UUID, CaseRow]] | None = session.info.get(_HELD)
    if kept is None or kept[0] is not transaction:
        kept = (transaction, {})
        session.info[_HELD] = kept
    return kept[1]


@event.listens_for(Session, "after_soft_rollback")
def _forget_held(session: Session, previous_transaction: SessionTransaction) -> None:
    # A savepoint rolling back undoes changes the kept rows show: read them again.
    session.info.pop(_HELD, None)


class CaseRepository(Repository):
    async def insert(self, case: NewCaseRow, search_text: str) -> CaseRow:
        """The new case, as stored (``search_text`` and its subject are what search finds it by)."""
        parameters = column_values(case) | {"search_subject": case.subject, "search_text": search_text}
        return self.keep(case_record((await self.session.execute(_INSERT_CASE, parameters)).mappings().one()))

    async def get(self, case_id: uuid.UUID, *, for_update: bool = False) -> CaseRow | None:
        held = _held(self.session).get(case_id)
        if held is not None:
            return held
        statement = _GET_CASE_FOR_UPDATE if for_update else _GET_CASE
        row = (await self.session.execute(statement, {"case_key": case_id})).mappings().one_or_none()
        if row is None:
            return None
        return self.keep(case_record(row)) if for_update else case_record(row)

    async def lock(self, case_ids: Sequence[uuid.UUID]) -> None:
        """Lock the cases of a batch in one statement (those that exist), in id order; each
        ``get(..., for_update=True)`` of them after it runs no query."""
        held = _held(self.session)
        wanted = sorted({case_id for case_id in case_ids if case_id not in held})
        if wanted:
            for row in (await self.session.execute(_LOCK_CASES, {"case_keys": wanted})).mappings():
                self.keep(case_record(row))

    def keep(self, case: CaseRow) -> CaseRow:
        """Note ``case`` as this transaction holds it (it inserted, locked or updated the row)."""
        _held(self.session)[case.id] = case
        return case

    async def unsolved_incidents(self, problem_id: uuid.UUID) -> list[uuid.UUID]:
        statement = (
            select(cases.c.id)
            .where(cases.c.problem_id == problem_id, cases.c.status.not_in(["solved", "closed"]))
            .order_by(cases.c.id)
        )
        return list(await self.session.scalars(statement))

    async def get_by_number(self, number: int) -> CaseRow | None:
        row = (
            (await self.session.execute(select(*CASE_COLUMNS).where(cases.c.number == number))).mappings().one_or_none()
        )
        return case_record(row) if row else None

    async def get_by_ref_tokens(self, tokens: Sequence[str]) -> list[CaseRow]:
        if not tokens:
            return []
        rows = (await self.session.execute(select(*CASE_COLUMNS).where(cases.c.ref_token.in_(tokens)))).mappings()
        return [case_record(row) for row in rows]

    async def newest_follow_up(self, case_id: uuid.UUID) -> CaseRow | None:
        statement = (
            select(*CASE_COLUMNS).where(cases.c.follow_up_of == case_id).order_by(cases.c.number.desc()).limit(1)
        )
        row = (await self.session.execute(statement)).mappings().one_or_none()
        return case_record(row) if row else None

    async def update(self, case_id: uuid.UUID, values: CaseValues, search_text: str | None = None) -> CaseRow:
        """Set the columns of ``values``; ``search_text`` is added to what search finds the case by."""
        statement, parameters = _UPDATE_CASE, {**values, "case_key": case_id}
        if search_text:
            statement, parameters = _UPDATE_CASE_AND_SEARCH, {**parameters, "search_text": search_text}
        # The UPDATE locked the row, if nothing did before.
        return self.keep(case_record((await self.session.execute(statement, parameters)).mappings().one()))

    async def ids_by_requester(self, contact_id: uuid.UUID) -> list[uuid.UUID]:
        rows = await self.session.scalars(
            select(cases.c.id).where(cases.c.requester_id == contact_id).order_by(cases.c.number)
        )
        return list(rows)

    async def ids_by_organization(self, organization_id: uuid.UUID) -> list[uuid.UUID]:
        rows = await self.session.scalars(
            select(cases.c.id).where(cases.c.organization_id == organization_id).order_by(cases.c.number)
        )
        return list(rows)

    async def count_by_requester(self, contact_id: uuid.UUID) -> int:
        return int(await self.session.scalar(select(func.count()).where(cases.c.requester_id == contact_id)) or 0)

    async def page(
        self,
        filters: CaseFilters,
        *,
        sort: str,
        after: CaseKey | None,
        limit: int,
    ) -> list[CaseRow]:
        column, descending = SORTS[sort]
        conditions = self._conditions(filters)
        if after is not None:
            key, last_id = after
            if column is cases.c.number:
                conditions.append(column < key if descending else column > key)
            elif descending:
                conditions.append(tuple_(column, cases.c.id) < tuple_(key, last_id))
            else:
                conditions.append(tuple_(column, cases.c.id) > tuple_(key, last_id))
        order = [column.desc(), cases.c.id.desc()] if descending else [column.asc(), cases.c.id.asc()]
        statement = select(*CASE_COLUMNS).where(and_(True, *conditions)).order_by(*order).limit(limit)
        return [case_record(row) for row in (await self.session.execute(statement)).mappings()]

    async def counts(self, filters: Sequence[CaseFilters]) -> list[int]:
        """How many cases match each filter set, in one pass over the cases (a sidebar of views)."""
        if not filters:
            return []
        columns = [func.count().filter(and_(True, *self._conditions(f))) for f in filters]
        row = (await self.session.execute(select(*columns).select_from(cases))).one()
        return [int(value) for value in row]

    def _conditions(self, filters: CaseFilters) -> list[ColumnElement[bool]]:
        c = cases.c
        conditions: list[ColumnElement[bool]] = []
        for column, values in (
            (c.status, filters.status),
            (c.priority, filters.priority),
            (c.channel, filters.channel),
            (c.type, filters.type),
        ):
            if values:
                conditions.append(column.in_(list(values)))
        if filters.tags:
            conditions.append(c.tags.contains(list(filters.tags)))
        if filters.unassigned:
            conditions.append(c.assignee_id.is_(None))
        for column, value in (
            (c.assignee_id, filters.assignee_id),
            (c.group_id, filters.group_id),
            (c.brand, filters.brand),
            (c.brand_id, filters.brand_id),
            (c.requester_id, filters.requester_id),
            (c.organization_id, filters.organization_id),
            (c.problem_id, filters.problem_id),
            (c.requester_id, filters.visible_requester_id),
            (c.organization_id, filters.visible_organization_id),
        ):
            if value is not None:
                conditions.append(column == value)
        for column, low, high in (
            (c.created_at, filters.created_after, filters.created_before),
            (c.updated_at, filters.updated_after, filters.updated_before),
            (c.solved_at, filters.solved_after, filters.solved_before),
        ):
            if low is not None:
                conditions.append(column >= low)
            if high is not None:
                conditions.append(column < high)
        if filters.q:
            query = func.websearch_to_tsquery(literal_column(f"'{SEARCH_CONFIG}'"), filters.q)
            conditions.append(c.search.op("@@")(query))
        return conditions

    # -- history -------------------------------------------------------------------

    async def add_history(self, rows: Sequence[NewHistoryRow]) -> None:
        """Written when the transaction commits, with every other history row of it in one statement
        (nothing reads a case's history back in the transaction that changes the case)."""
        await stage(self.session, case_history, [column_values(row) for row in rows])

    async def history(self, case_id: uuid.UUID, *, after_id: int | None, limit: int) -> list[CaseHistoryRow]:
        statement = select(case_history).where(case_history.c.case_id == case_id)
        if after_id is not None:
            statement = statement.where(case_history.c.id > after_id)
        statement = statement.order_by(case_history.c.id).limit(limit)
        return [CaseHistoryRow(**row) for row in (await self.session.execute(statement)).mappings()]
