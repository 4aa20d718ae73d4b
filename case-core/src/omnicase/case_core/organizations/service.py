"""Organizations: matched by email domain; their contacts and cases move with a merge."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.cases.repository import CaseRepository
from omnicase.case_core.cases.service import CaseService
from omnicase.case_core.contacts.repository import ContactRepository
from omnicase.case_core.errors import DomainTaken, OrganizationNotFound
from omnicase.case_core.identity import Actor
from omnicase.case_core.normalize import normalize_domain
from omnicase.case_core.organizations.repository import OrganizationRepository, OrganizationRow, OrganizationValues
from omnicase.case_core.organizations.schemas import Organization, OrganizationCreate, OrganizationUpdate
from omnicase.kit.clock import utcnow
from omnicase.kit.errors import NOT_FOUND_CODE, FieldError, ServiceError, ValidationFailed, refusal
from omnicase.kit.ids import uuid7


def _missing(organization_id: uuid.UUID) -> OrganizationNotFound:
    return OrganizationNotFound(f"Organization {organization_id} does not exist.")


def _unknown_source(organization_id: uuid.UUID) -> ServiceError:
    """The organization a merge names in its body is not there: a 404 naming the field, not the path."""
    error = FieldError(field="body.source_organization_id", message="no such organization", code=NOT_FOUND_CODE)
    return refusal(f"Organization {organization_id} does not exist.", [error])


class OrganizationService:
    def __init__(self, cases: CaseService) -> None:
        self.case_service = cases

    async def search(
        self, session: AsyncSession, *, q: str | None, after: uuid.UUID | None, limit: int
    ) -> list[OrganizationRow]:
        return await OrganizationRepository(session).search(q=q, after=after, limit=limit)

    async def get(self, session: AsyncSession, organization_id: uuid.UUID) -> OrganizationRow:
        return await OrganizationRepository(session).get_or_raise(organization_id, _missing)

    async def view(self, session: AsyncSession, row: OrganizationRow) -> Organization:
        return (await self.views(session, [row]))[0]

    async def views(self, session: AsyncSession, rows: list[OrganizationRow]) -> list[Organization]:
        domains = await OrganizationRepository(session).domains_of([row.id for row in rows])
        return [
            Organization(
                id=row.id,
                name=row.name,
                notes=row.notes,
                domains=domains[row.id],
                created_at=row.created_at,
                updated_at=row.updated_at,
            )
            for row in rows
        ]

    @staticmethod
    def _domains(domains: list[str]) -> list[str]:
        cleaned: list[str] = []
        errors: list[FieldError] = []
        for index, domain in enumerate(domains):
            value = normalize_domain(domain)
            if value is None:
                errors.append(FieldError(field=f"body.domains.{index}", message="not a domain name", code="domain"))
            elif value not in cleaned:
                cleaned.append(value)
        if errors:
            raise ValidationFailed("Some domains are not valid.", errors=errors)
        return cleaned

    async def _claim(self, session: AsyncSession, organization_id: uuid.UUID, domains: list[str]) -> None:
        for domain in domains:
            if not await OrganizationRepository(session).claim_domain(organization_id, domain):
                owner = await OrganizationRepository(session).by_domain(domain)
                raise DomainTaken(
                    f"The domain {domain} already belongs to organization {owner}.",
                    extra={"organization_id": str(owner)},
                )
        # Contacts who wrote in before the domain was known join now (their cases stay as they were).
        await ContactRepository(session).adopt_by_email_domain(organization_id, domains, utcnow())

    async def create(self, session: AsyncSession, data: OrganizationCreate) -> OrganizationRow:
        domains = self._domains(data.domains)
        now = utcnow()
        row = await OrganizationRepository(session).insert(
            OrganizationRow(id=uuid7(), name=data.name, notes=data.notes, created_at=now, updated_at=now)
        )
        await self._claim(session, row.id, domains)
        return row

    async def update(
        self, session: AsyncSession, organization_id: uuid.UUID, data: OrganizationUpdate
    ) -> OrganizationRow:
        await self.get(session, organization_id)
        sent = data.model_fields_set
        if data.domains is not None:
            domains = self._domains(data.domains)
            await OrganizationRepository(session).release_domains(organization_id)
            await self._claim(session, organization_id, domains)
        values: OrganizationValues = {}
        # Neither is ever null: the body refuses a null name or note.
        if "name" in sent and data.name is not None:
            values["name"] = data.name
        if "notes" in sent and data.notes is not None:
            values["notes"] = data.notes
        values["updated_at"] = utcnow()
        return await OrganizationRepository(session).update(organization_id, values)

    async def delete(self, session: AsyncSession, organization_id: uuid.UUID) -> None:
        """Contacts and cases keep existing without an organization."""
        await self.get(session, organization_id)
        await OrganizationRepository(session).delete(organization_id)

    async def merge(
        self, session: AsyncSession, target_id: uuid.UUID, source_id: uuid.UUID, actor: Actor
    ) -> OrganizationRow:
        if target_id == source_id:
            raise ValidationFailed(
                "An organization cannot be merged into itself.",
                errors=[FieldError(field="body.source_organization_id", message="same as the target", code="self")],
            )
        await self.get(session, target_id)
        await OrganizationRepository(session).get_or_raise(source_id, _unknown_source)
        for case_id in await CaseRepository(session).ids_by_organization(source_id):
            await self.case_service.move_organization(session, case_id, target_id, actor)
        await ContactRepository(session).move_organization(source_id, target_id)
        await OrganizationRepository(session).move_domains(source_id, target_id)
        await OrganizationRepository(session).delete(source_id)
        return await OrganizationRepository(session).update(target_id, {"updated_at": utcnow()})
