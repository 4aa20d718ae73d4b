"""What a caller may see of a case: everything for staff, their own for customers."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.cases.repository import CaseFilters, CaseRow
from omnicase.case_core.cases.schemas import Case
from omnicase.case_core.cases.service import CaseService
from omnicase.case_core.errors import CaseNotFound
from omnicase.case_core.identity import Actor


async def visible_case(session: AsyncSession, cases: CaseService, case_id: uuid.UUID, actor: Actor) -> CaseRow:
    """The case, or 404 if it does not exist or is not the customer's to see."""
    row = await cases.get(session, case_id)
    if actor.customer is not None and not actor.customer.sees(row):
        raise CaseNotFound(f"Case {case_id} does not exist.")
    return row


def restrict(filters: CaseFilters, actor: Actor) -> CaseFilters:
    """Narrow a list to what the caller may see (on top of the filters asked for)."""
    customer = actor.customer
    if customer is None:
        return filters
    if customer.organization_cases and customer.organization_id is not None:
        filters.visible_organization_id = customer.organization_id
    else:
        filters.visible_requester_id = customer.contact_id
    return filters


def shown_to(case: Case, actor: Actor) -> Case:
    """A customer's view leaves out what agents note about a case (tags, custom fields, followers)."""
    if actor.customer is None:
        return case
    return case.model_copy(update={"tags": [], "custom_fields": {}, "followers": []})
