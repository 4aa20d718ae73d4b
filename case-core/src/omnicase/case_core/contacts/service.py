"""Contacts: found or created from whatever a channel knows of a sender; edited; merged."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.cases.repository import CaseRepository
from omnicase.case_core.cases.service import CaseService
from omnicase.case_core.contacts.repository import ContactRepository, ContactRow, ContactValues
from omnicase.case_core.contacts.schemas import Contact, ContactCreate, ContactUpdate, Handle
from omnicase.case_core.errors import ContactNotFound, IdentityTaken, StillInUse
from omnicase.case_core.identity import Actor
from omnicase.case_core.normalize import (
    email_domain,
    normalize_email,
    normalize_handle,
    normalize_phone,
)
from omnicase.case_core.organizations.repository import OrganizationRepository
from omnicase.kit.clock import utcnow
from omnicase.kit.errors import NOT_FOUND_CODE, FieldError, ServiceError, ValidationFailed, refusal
from omnicase.kit.events import Channel, Party
from omnicase.kit.ids import uuid7

Identity = tuple[str, str]


def party_identities(party: Party, channel: str, default_region: str | None) -> list[Identity]:
    """The normalised identities of a sender; unusable values are left out."""
    found: list[Identity] = []
    if party.email and (email := normalize_email(party.email)):
        found.append(("email", email))
    if party.phone and (phone := normalize_phone(party.phone, default_region)):
        found.append(("phone", phone))
    if party.handle and (handle := normalize_handle(channel, party.handle)):
        found.append(("handle", handle))
    return found


def to_contact(row: ContactRow, identities: list[Identity]) -> Contact:
    handles = []
    for kind, value in identities:
        if kind == "handle":
            channel, _, handle = value.partition(":")
            handles.append(Handle(channel=Channel(channel), handle=handle))
    return Contact(
        id=row.id,
        name=row.name,
        emails=[value for kind, value in identities if kind == "email"],
        phones=[value for kind, value in identities if kind == "phone"],
        handles=handles,
        organization_id=row.organization_id,
        notes=row.notes,
        locale=row.locale,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _new_contact(name: str | None, organization_id: uuid.UUID | None) -> ContactRow:
    now = utcnow()
    return ContactRow(
        id=uuid7(),
        name=name[:200] if name else None,
        organization_id=organization_id,
        notes="",
        created_at=now,
        updated_at=now,
    )


def _domain_of(identities: list[Identity]) -> str | None:
    """The email domain whose organization a new contact joins (its first address's)."""
    emails = [value for kind, value in identities if kind == "email"]
    return email_domain(emails[0]) if emails else None


def _missing(contact_id: uuid.UUID) -> ContactNotFound:
    return ContactNotFound(f"Contact {contact_id} does not exist.")


def _unknown_source(contact_id: uuid.UUID) -> ServiceError:
    """The contact a merge names in its body is not there: a 404 naming the field, not the path."""
    error = FieldError(field="body.source_contact_id", message="no such contact", code=NOT_FOUND_CODE)
    return refusal(f"Contact {contact_id} does not exist.", [error])


class ContactService:
    def __init__(self, cases: CaseService, default_phone_region: str | None = None) -> None:
        self.case_service = cases
        self.default_phone_region = default_phone_region

    async def search(
        self,
        session: AsyncSession,
        *,
        q: str | None,
        organization_id: uuid.UUID | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> list[ContactRow]:
        return await ContactRepository(session).search(q=q, organization_id=organization_id, after=after, limit=limit)

    async def get(self, session: AsyncSession, contact_id: uuid.UUID) -> ContactRow:
        return await ContactRepository(session).get_or_raise(contact_id, _missing)

    async def view(self, session: AsyncSession, row: ContactRow) -> Contact:
        return to_contact(row, (await ContactRepository(session).identities_of([row.id]))[row.id])

    async def views(self, session: AsyncSession, rows: list[ContactRow]) -> list[Contact]:
        identities = await ContactRepository(session).identities_of([row.id for row in rows])
        return [to_contact(row, identities[row.id]) for row in rows]

    # -- matching senders ------------------------------------------------------------

    async def holders_of(
        self, session: AsyncSession, senders: list[tuple[Party, str]]
    ) -> dict[Identity, ContactRow | None]:
        """Who holds each identity of these senders (``None``: nobody), in one query: a batch's prefetch."""
        identities = list(
            dict.fromkeys(
                identity
                for party, channel in senders
                for identity in party_identities(party, channel, self.default_phone_region)
            )
        )
        found = await ContactRepository(session).holders(identities)
        return {identity: found.get(identity) for identity in identities}

    async def set_missing_locales(self, session: AsyncSession, locales: dict[uuid.UUID, str]) -> None:
        """Each contact's locale, where it has none yet (one statement for a batch; none without any)."""
        await ContactRepository(session).set_missing_locales(locales)

    async def create_unknown(
        self, session: AsyncSession, senders: Sequence[tuple[Party, str]], known: dict[Identity, ContactRow | None]
    ) -> None:
        """Make the contacts of the senders nobody holds any identity of, in one statement, into ``known``.

        ``known``: :meth:`holders_of` these senders. A sender sharing an identity with another
        sender of the list is left to :meth:`resolve`, which settles one sender at a time; so is
        one whose first identity another transaction took a moment ago (its contact is deleted).
        """
        unknown: dict[tuple[Identity, ...], Party] = {}
        for party, channel in senders:
            identities = tuple(party_identities(party, channel, self.default_phone_region))
            if identities and all(identity in known and known[identity] is None for identity in identities):
                unknown.setdefault(identities, party)
        given = Counter(identity for identities in unknown for identity in identities)
        new = [
            (_new_contact(party.name, None), identities, _domain_of(list(identities)))
            for identities, party in unknown.items()
            if all(given[identity] == 1 for identity in identities)
        ]
        created = {
            contact.id: (contact, claimed)
            for contact, claimed in await ContactRepository(session).insert_many_claiming(new)
        }
        lost = []
        for draft, identities, _ in new:
            contact, claimed = created[draft.id]
            if identities[0] in claimed:
                known.update(dict.fromkeys(claimed, contact))
            else:
                lost.append(contact.id)
                for identity in identities:
                    known.pop(identity, None)  # read afresh when its message is handled
        await ContactRepository(session).delete_many(lost)

    async def resolve(
        self,
        session: AsyncSession,
        party: Party,
        channel: str,
        known: dict[Identity, ContactRow | None] | None = None,
    ) -> ContactRow | None:
        """The contact behind a sender, created if unknown; None if the sender gave nothing usable.

        ``known``: holders read for the whole batch (:meth:`holders_of`), used instead of a query
        when they cover every identity of this sender; the identities this call settles are
        dropped from it, so a later sender sharing one reads them afresh.
        """
        identities = party_identities(party, channel, self.default_phone_region)
        if not identities:
            return None
        try:
            return await self._resolve(session, party, identities, known)
        finally:
            if known is not None:
                for identity in identities:
                    known.pop(identity, None)

    async def _resolve(
        self,
        session: AsyncSession,
        party: Party,
        identities: list[Identity],
        known: dict[Identity, ContactRow | None] | None,
    ) -> ContactRow:
        for attempt in range(3):
            if attempt == 0 and known is not None and all(identity in known for identity in identities):
                holders = {identity: row for identity in identities if (row := known[identity]) is not None}
            else:
                holders = await ContactRepository(session).holders(identities)
            # Email first: the most specific thing a sender gives.
            contact = next((holders[identity] for identity in identities if identity in holders), None)
            if contact is not None:
                owner = contact.id
                for identity in identities:
                    if identity not in holders:
                        await ContactRepository(session).claim(owner, *identity)
                if party.name and not contact.name:
                    contact = await ContactRepository(session).update(owner, {"name": party.name[:200]})
                return contact
            contact, claimed = await ContactRepository(session).insert_claiming(
                _new_contact(party.name, None), identities, domain=_domain_of(identities)
            )
            # The most specific identity decides whose contact this is; the others go to
            # it unless another contact holds them already.
            if identities[0] in claimed:
                return contact
            # Another transaction created this sender a moment ago: use theirs.
            await ContactRepository(session).delete(contact.id)
        raise RuntimeError(f"could not resolve contact for {identities}")

    async def _insert(
        self, session: AsyncSession, name: str | None, identities: list[Identity], organization_id: uuid.UUID | None
    ) -> ContactRow:
        return await ContactRepository(session).insert(
            _new_contact(name, organization_id),
            domain=_domain_of(identities) if organization_id is None else None,
        )

    # -- the API ---------------------------------------------------------------------

    def requester_errors(self, email: str | None, phone: str | None) -> list[FieldError]:
        """What a case's ``requester`` gives that is no address or number, field by field."""
        errors = []
        if email is not None and normalize_email(email) is None:
            errors.append(FieldError(field="body.requester.email", message="not an email address", code="email"))
        if phone is not None and normalize_phone(phone, self.default_phone_region) is None:
            message = "not a valid phone number (use +<country code>…)"
            errors.append(FieldError(field="body.requester.phone", message=message, code="phone"))
        return errors

    def _identities(
        self, emails: list[str] | None, phones: list[str] | None, handles: list[Handle] | None
    ) -> tuple[dict[str, list[Identity]], list[FieldError]]:
        by_kind: dict[str, list[Identity]] = {}
        errors: list[FieldError] = []
        if emails is not None:
            by_kind["email"] = []
            for index, email in enumerate(emails):
                value = normalize_email(email)
                if value is None:
                    errors.append(
                        FieldError(field=f"body.emails.{index}", message="not an email address", code="email")
                    )
                else:
                    by_kind["email"].append(("email", value))
        if phones is not None:
            by_kind["phone"] = []
            for index, phone in enumerate(phones):
                value = normalize_phone(phone, self.default_phone_region)
                if value is None:
                    errors.append(
                        FieldError(
                            field=f"body.phones.{index}",
                            message="not a valid phone number (use +<country code>…)",
                            code="phone",
                        )
                    )
                else:
                    by_kind["phone"].append(("phone", value))
        if handles is not None:
            by_kind["handle"] = []
            for handle in handles:
                normalized = normalize_handle(handle.channel, handle.handle)
                if normalized:
                    by_kind["handle"].append(("handle", normalized))
        return {kind: list(dict.fromkeys(values)) for kind, values in by_kind.items()}, errors

    async def _check_organization(self, session: AsyncSession, organization_id: uuid.UUID | None) -> list[FieldError]:
        if organization_id is not None and await OrganizationRepository(session).get(organization_id) is None:
            return [FieldError(field="body.organization_id", message="no such organization", code=NOT_FOUND_CODE)]
        return []

    async def _claim_all(self, session: AsyncSession, contact_id: uuid.UUID, identities: list[Identity]) -> None:
        owners = await ContactRepository(session).owners(identities)
        taken = [identity for identity in identities if owners.get(identity, contact_id) != contact_id]
        if taken:
            raise IdentityTaken(
                "Another contact already has "
                + ", ".join(value for _, value in taken)
                + "; merge the contacts instead.",
                extra={"contact_ids": sorted({str(owners[identity]) for identity in taken})},
            )
        for identity in identities:
            if not await ContactRepository(session).claim(contact_id, *identity):
                raise IdentityTaken(f"Another contact already has {identity[1]}.")

    async def create(self, session: AsyncSession, data: ContactCreate) -> ContactRow:
        by_kind, errors = self._identities(data.emails, data.phones, data.handles)
        errors += await self._check_organization(session, data.organization_id)
        identities = [identity for values in by_kind.values() for identity in values]
        if not errors and not identities and not data.name:
            errors.append(FieldError(field="body", message="give a name or at least one identity", code="empty"))
        if errors:
            raise refusal("The contact cannot be created as given.", errors)
        contact = await self._insert(session, data.name, identities, data.organization_id)
        given: ContactValues = {}
        if data.notes:
            given["notes"] = data.notes
        if data.locale:
            given["locale"] = data.locale
        if given:
            contact = await ContactRepository(session).update(contact.id, given)
        await self._claim_all(session, contact.id, identities)
        return contact

    async def update(self, session: AsyncSession, contact_id: uuid.UUID, data: ContactUpdate) -> ContactRow:
        await self.get(session, contact_id)
        sent = data.model_fields_set
        by_kind, errors = self._identities(
            data.emails if "emails" in sent else None,
            data.phones if "phones" in sent else None,
            data.handles if "handles" in sent else None,
        )
        if "organization_id" in sent:
            errors += await self._check_organization(session, data.organization_id)
        if errors:
            raise refusal(f"Contact {contact_id} cannot be changed as asked.", errors)
        if by_kind:
            await ContactRepository(session).release(contact_id, list(by_kind))
            await self._claim_all(session, contact_id, [identity for values in by_kind.values() for identity in values])
        values: ContactValues = {}
        if "name" in sent:
            values["name"] = data.name
        if "organization_id" in sent:
            values["organization_id"] = data.organization_id
        if "notes" in sent and data.notes is not None:  # never null: the body refuses a null note
            values["notes"] = data.notes
        if "locale" in sent:
            values["locale"] = data.locale
        values["updated_at"] = utcnow()
        return await ContactRepository(session).update(contact_id, values)

    async def delete(self, session: AsyncSession, contact_id: uuid.UUID) -> None:
        await self.get(session, contact_id)
        count = await CaseRepository(session).count_by_requester(contact_id)
        if count:
            raise StillInUse(
                f"Contact {contact_id} is the requester of {count} case(s); merge it into another contact."
            )
        await ContactRepository(session).delete(contact_id)

    async def merge(
        self, session: AsyncSession, target_id: uuid.UUID, source_id: uuid.UUID, actor: Actor
    ) -> ContactRow:
        """Identities and cases of the source move to the target; the source is deleted."""
        if target_id == source_id:
            raise ValidationFailed(
                "A contact cannot be merged into itself.",
                errors=[FieldError(field="body.source_contact_id", message="same as the target", code="self")],
            )
        target = await self.get(session, target_id)
        await ContactRepository(session).get_or_raise(source_id, _unknown_source)
        for case_id in await CaseRepository(session).ids_by_requester(source_id):
            await self.case_service.move_requester(session, case_id, target, actor)
        await ContactRepository(session).move_identities(source_id, target_id)
        await ContactRepository(session).delete(source_id)
        return await ContactRepository(session).update(target_id, {"updated_at": utcnow()})
