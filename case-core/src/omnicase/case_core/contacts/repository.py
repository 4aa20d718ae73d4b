"""Every query about contacts and their identities, answering typed records."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import (
    DateTime,
    Row,
    RowMapping,
    Select,
    String,
    Uuid,
    and_,
    bindparam,
    column,
    func,
    literal,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert

from omnicase.case_core.models import contact_identities as identities
from omnicase.case_core.models import contacts, organization_domains
from omnicase.kit.db import any_of
from omnicase.kit.repository import Repository


@dataclass(frozen=True)
class ContactRow:
    id: uuid.UUID
    name: str | None
    organization_id: uuid.UUID | None
    notes: str
    created_at: datetime
    updated_at: datetime
    locale: str | None = None


class ContactValues(TypedDict, total=False):
    """Columns of a contact to set, by name, and their values (what a change writes)."""

    name: str | None
    organization_id: uuid.UUID | None
    notes: str
    locale: str | None
    updated_at: datetime


def _record(row: RowMapping) -> ContactRow:
    return ContactRow(**row)


def _claimed(row: Row[Any]) -> tuple[ContactRow, set[tuple[str, str]]]:
    """A contact a claiming insert made, and the identities it got (each "kind:value": a kind
    has no colon, a handle's value may)."""
    contact = ContactRow(
        id=row.id,
        name=row.name,
        organization_id=row.organization_id,
        notes=row.notes,
        created_at=row.created_at,
        updated_at=row.updated_at,
        locale=row.locale,
    )
    return contact, {(kind, value) for kind, value in (item.split(":", 1) for item in row.claimed or [])}


def _values(contact: ContactRow, domain: str | None) -> dict[str, Any]:
    """The insert's values; with ``domain``, the organization owning that email domain (if any), in the
    same statement, instead of the record's."""
    return {
        "id": contact.id,
        "name": contact.name,
        "organization_id": contact.organization_id
        if domain is None
        else select(organization_domains.c.organization_id)
        .where(organization_domains.c.domain == domain)
        .scalar_subquery(),
        "notes": contact.notes,
        "created_at": contact.created_at,
        "updated_at": contact.updated_at,
    }


def _insert_claiming(*, by_domain: bool) -> Select[Any]:
    """Built once per shape (each new contact runs it): the contact, then every identity no one holds."""
    organization: Any = (
        select(organization_domains.c.organization_id)
        .where(organization_domains.c.domain == bindparam("domain", type_=String))
        .scalar_subquery()
        if by_domain
        else bindparam("organization_id", type_=Uuid)
    )
    new = (
        contacts.insert()
        .values(
            id=bindparam("id", type_=Uuid),
            name=bindparam("name", type_=String),
            organization_id=organization,
            notes=bindparam("notes", type_=String),
            created_at=bindparam("created_at", type_=DateTime(timezone=True)),
            updated_at=bindparam("updated_at", type_=DateTime(timezone=True)),
        )
        .returning(*contacts.c)
        .cte("new_contact")
    )
    wanted = (
        func.unnest(bindparam("kinds", type_=ARRAY(String)), bindparam("identity_values", type_=ARRAY(String)))
        .table_valued(column("kind", String), column("value", String))
        .render_derived(name="wanted")
    )
    claimed = (
        insert(identities)
        .from_select(
            ["kind", "value", "contact_id"],
            select(wanted.c.kind, wanted.c.value, new.c.id).select_from(wanted.join(new, true())),
        )
        .on_conflict_do_nothing(index_elements=["kind", "value"])
        .returning(identities.c.kind, identities.c.value)
        .cte("claimed")
    )
    got = select(func.array_agg(func.concat(claimed.c.kind, ":", claimed.c.value))).scalar_subquery()
    return select(*new.c, got.label("claimed"))


_INSERT_CLAIMING = _insert_claiming(by_domain=False)
_INSERT_CLAIMING_WITH_DOMAIN = _insert_claiming(by_domain=True)


def _insert_many_claiming() -> Select[Any]:
    """Contacts (each joining the organization of its email domain, if any), then every identity
    no one holds, for any number of contacts: one statement of the same text."""
    given = (
        func.unnest(
            bindparam("ids", type_=ARRAY(Uuid)),
            bindparam("names", type_=ARRAY(String)),
            bindparam("domains", type_=ARRAY(String)),
            bindparam("ats", type_=ARRAY(DateTime(timezone=True))),
        )
        .table_valued(column("id", Uuid), column("name", String), column("domain", String), column("at", DateTime))
        .render_derived(name="given")
    )
    organization = (
        select(organization_domains.c.organization_id)
        .where(organization_domains.c.domain == given.c.domain)
        .scalar_subquery()
    )
    new = (
        insert(contacts)
        .from_select(
            ["id", "name", "organization_id", "notes", "created_at", "updated_at"],
            select(given.c.id, given.c.name, organization, literal(""), given.c.at, given.c.at),
        )
        .returning(*contacts.c)
        .cte("new_contacts")
    )
    wanted = (
        func.unnest(
            bindparam("owners", type_=ARRAY(Uuid)),
            bindparam("kinds", type_=ARRAY(String)),
            bindparam("identity_values", type_=ARRAY(String)),
        )
        .table_valued(column("contact_id", Uuid), column("kind", String), column("value", String))
        .render_derived(name="wanted")
    )
    claimed = (
        insert(identities)
        .from_select(
            ["kind", "value", "contact_id"],
            # In key order: two batches claiming some of the same identities (one sender's
            # messages in two partitions) wait for each other in one direction, never deadlock.
            select(wanted.c.kind, wanted.c.value, new.c.id)
            .select_from(wanted.join(new, new.c.id == wanted.c.contact_id))
            .order_by(wanted.c.kind, wanted.c.value),
        )
        .on_conflict_do_nothing(index_elements=["kind", "value"])
        .returning(identities.c.contact_id, identities.c.kind, identities.c.value)
        .cte("claimed")
    )
    got = (
        select(func.array_agg(func.concat(claimed.c.kind, ":", claimed.c.value)))
        .where(claimed.c.contact_id == new.c.id)
        .scalar_subquery()
    )
    return select(*new.c, got.label("claimed"))


_INSERT_MANY_CLAIMING = _insert_many_claiming()


# Built once: the intake asks it for every message.
_HOLDERS = (
    select(identities.c.kind, identities.c.value, contacts)
    .join(contacts, contacts.c.id == identities.c.contact_id)
    .where(tuple_(identities.c.kind, identities.c.value).in_(bindparam("pairs", expanding=True)))
)


# Each contact's locale where it has none yet: one statement for a batch's contacts.
_LOCALES_GIVEN = (
    func.unnest(bindparam("contact_ids", type_=ARRAY(Uuid)), bindparam("locales", type_=ARRAY(String)))
    .table_valued(column("id", Uuid), column("locale", String))
    .render_derived(name="given")
)
_SET_MISSING_LOCALES = (
    contacts.update()
    .where(contacts.c.id == _LOCALES_GIVEN.c.id, contacts.c.locale.is_(None))
    .values(locale=_LOCALES_GIVEN.c.locale)
)


class ContactRepository(Repository):
    async def set_missing_locales(self, locales: Mapping[uuid.UUID, str]) -> None:
        """Give each contact its locale, where it has none (one statement)."""
        if locales:
            parameters = {"contact_ids": list(locales), "locales": list(locales.values())}
            await self.session.execute(_SET_MISSING_LOCALES, parameters)

    async def insert(self, contact: ContactRow, *, domain: str | None = None) -> ContactRow:
        """``domain``: join the organization owning this email domain, if any (in the same statement)."""
        statement = contacts.insert().values(**_values(contact, domain)).returning(contacts)
        return _record((await self.session.execute(statement)).mappings().one())

    async def insert_claiming(
        self, contact: ContactRow, pairs: Sequence[tuple[str, str]], *, domain: str | None
    ) -> tuple[ContactRow, set[tuple[str, str]]]:
        """Insert a contact and give it every identity no other contact holds, in one statement.

        Returns the row and the identities it got; ``domain`` as in :meth:`insert`.
        """
        parameters = {
            "id": contact.id,
            "name": contact.name,
            "organization_id": contact.organization_id,
            "domain": domain,
            "notes": contact.notes,
            "created_at": contact.created_at,
            "updated_at": contact.updated_at,
            "kinds": [kind for kind, _ in pairs],
            "identity_values": [value for _, value in pairs],
        }
        statement = _INSERT_CLAIMING if domain is None else _INSERT_CLAIMING_WITH_DOMAIN
        return _claimed((await self.session.execute(statement, parameters)).one())

    async def insert_many_claiming(
        self, new: Sequence[tuple[ContactRow, Sequence[tuple[str, str]], str | None]]
    ) -> list[tuple[ContactRow, set[tuple[str, str]]]]:
        """:meth:`insert_claiming` for several contacts in one statement: each ``(contact, its
        identities, its email domain)``, no identity given twice; each row with the identities it got."""
        if not new:
            return []
        parameters = {
            "ids": [contact.id for contact, _, _ in new],
            "names": [contact.name for contact, _, _ in new],
            "domains": [domain for _, _, domain in new],
            "ats": [contact.created_at for contact, _, _ in new],
            "owners": [contact.id for contact, pairs, _ in new for _ in pairs],
            "kinds": [kind for _, pairs, _ in new for kind, _ in pairs],
            "identity_values": [value for _, pairs, _ in new for _, value in pairs],
        }
        return [_claimed(row) for row in await self.session.execute(_INSERT_MANY_CLAIMING, parameters)]

    async def delete_many(self, contact_ids: Sequence[uuid.UUID]) -> None:
        if contact_ids:
            await self.session.execute(contacts.delete().where(any_of(contacts.c.id, list(contact_ids))))

    async def get(self, contact_id: uuid.UUID) -> ContactRow | None:
        row = (await self.session.execute(select(contacts).where(contacts.c.id == contact_id))).mappings().one_or_none()
        return _record(row) if row else None

    async def update(self, contact_id: uuid.UUID, changes: ContactValues) -> ContactRow:
        """Set the columns of ``changes``."""
        statement = contacts.update().where(contacts.c.id == contact_id).values(**changes).returning(contacts)
        return _record((await self.session.execute(statement)).mappings().one())

    async def delete(self, contact_id: uuid.UUID) -> None:
        await self.session.execute(contacts.delete().where(contacts.c.id == contact_id))

    async def owners(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], uuid.UUID]:
        """Which contact holds each ``(kind, value)`` identity."""
        if not pairs:
            return {}
        statement = select(identities.c.kind, identities.c.value, identities.c.contact_id).where(
            tuple_(identities.c.kind, identities.c.value).in_(list(pairs))
        )
        return {(row.kind, row.value): row.contact_id for row in await self.session.execute(statement)}

    async def holders(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], ContactRow]:
        """The contact holding each ``(kind, value)`` identity, rows included (one query: the intake's hot path)."""
        if not pairs:
            return {}
        return {
            (row.kind, row.value): ContactRow(
                id=row.id,
                name=row.name,
                organization_id=row.organization_id,
                notes=row.notes,
                created_at=row.created_at,
                updated_at=row.updated_at,
                locale=row.locale,
            )
            for row in await self.session.execute(_HOLDERS, {"pairs": list(pairs)})
        }

    async def claim(self, contact_id: uuid.UUID, kind: str, value: str) -> bool:
        """Give ``contact_id`` the identity; False if another contact already holds it."""
        statement = (
            insert(identities)
            .values(kind=kind, value=value, contact_id=contact_id)
            .on_conflict_do_nothing(index_elements=["kind", "value"])
            .returning(identities.c.contact_id)
        )
        if (await self.session.execute(statement)).scalar_one_or_none() is not None:
            return True
        owner = await self.session.scalar(
            select(identities.c.contact_id).where(identities.c.kind == kind, identities.c.value == value)
        )
        return owner == contact_id

    async def release(self, contact_id: uuid.UUID, kinds: Sequence[str]) -> None:
        await self.session.execute(
            identities.delete().where(identities.c.contact_id == contact_id, identities.c.kind.in_(list(kinds)))
        )

    async def identities_of(self, contact_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[tuple[str, str]]]:
        result: dict[uuid.UUID, list[tuple[str, str]]] = {contact_id: [] for contact_id in contact_ids}
        if not contact_ids:
            return result
        statement = (
            select(identities.c.contact_id, identities.c.kind, identities.c.value)
            .where(identities.c.contact_id.in_(list(contact_ids)))
            .order_by(identities.c.kind, identities.c.value)
        )
        for row in await self.session.execute(statement):
            result[row.contact_id].append((row.kind, row.value))
        return result

    async def move_identities(self, source: uuid.UUID, target: uuid.UUID) -> None:
        await self.session.execute(
            identities.update().where(identities.c.contact_id == source).values(contact_id=target)
        )

    async def adopt_by_email_domain(self, organization_id: uuid.UUID, domains: Sequence[str], now: datetime) -> None:
        """Contacts without an organization whose email address is at one of ``domains`` join it."""
        if not domains:
            return
        holders = select(identities.c.contact_id).where(
            identities.c.kind == "email", func.split_part(identities.c.value, "@", 2).in_(list(domains))
        )
        await self.session.execute(
            contacts.update()
            .where(contacts.c.organization_id.is_(None), contacts.c.id.in_(holders))
            .values(organization_id=organization_id, updated_at=now)
        )

    async def move_organization(self, source: uuid.UUID, target: uuid.UUID) -> None:
        await self.session.execute(
            contacts.update().where(contacts.c.organization_id == source).values(organization_id=target)
        )

    async def search(
        self,
        *,
        q: str | None,
        organization_id: uuid.UUID | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> list[ContactRow]:
        statement = select(contacts)
        if q:
            pattern = q.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            holders = select(identities.c.contact_id).where(
                or_(identities.c.value.like(pattern), identities.c.value.like("%:" + pattern))
            )
            statement = statement.where(or_(func.lower(contacts.c.name).like(pattern), contacts.c.id.in_(holders)))
        conditions = []
        if organization_id is not None:
            conditions.append(contacts.c.organization_id == organization_id)
        if after is not None:
            conditions.append(contacts.c.id > after)
        statement = statement.where(and_(True, *conditions)).order_by(contacts.c.id).limit(limit)
        return [_record(row) for row in (await self.session.execute(statement)).mappings()]
