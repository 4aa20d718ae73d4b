"""Contact routes: CRUD, search, merge, a contact's cases."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from omnicase.case_core.cases.repository import CaseFilters
from omnicase.case_core.cases.schemas import Case
from omnicase.case_core.cases.snapshot import to_case
from omnicase.case_core.contacts.schemas import Contact, ContactCreate, ContactMerge, ContactUpdate
from omnicase.case_core.contacts.service import ContactService
from omnicase.case_core.errors import ContactNotFound, IdentityTaken, StillInUse
from omnicase.case_core.identity import CaseReader, ContactReader, ContactWriter
from omnicase.case_core.wiring import ServicesDep
from omnicase.kit.db import SessionDep
from omnicase.kit.errors import BadRequest, UnknownReference, ValidationFailed, problem_responses
from omnicase.kit.identity import AUTH_PROBLEMS
from omnicase.kit.pagination import (
    CursorQuery,
    LimitQuery,
    Page,
    cursor_query,
    decode_cursor,
    decode_id_cursor,
    paginate,
)
from omnicase.kit.routes import Doc, resource_routes

router = APIRouter(prefix="/api/v1/contacts", tags=["contacts"], responses=AUTH_PROBLEMS)


@router.get(
    "",
    operation_id="list_contacts",
    summary="List or search contacts",
    response_model=Page[Contact],
    responses=problem_responses(BadRequest),
)
async def list_contacts(
    session: SessionDep,
    services: ServicesDep,
    actor: ContactReader,
    q: Annotated[
        str | None, Query(max_length=320, description="Prefix of a name, email address, phone number or handle.")
    ] = None,
    organization_id: uuid.UUID | None = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[Contact]:
    rows = await services.contacts.search(
        session, q=q, organization_id=organization_id, after=decode_id_cursor(cursor), limit=limit + 1
    )
    items = await services.contacts.views(session, rows[:limit])
    return paginate(Page[Contact], rows, limit, key=lambda row: [row.id], items=items)


def _contacts(services: ServicesDep) -> ContactService:
    return services.contacts


resource_routes(
    router,
    _contacts,
    with_session=True,
    location=True,
    view="view",
    key="contact_id",
    item=Contact,
    body=ContactCreate,
    changes=ContactUpdate,
    create=Doc(
        "create_contact",
        "Create a contact",
        (IdentityTaken, ValidationFailed, UnknownReference),
        description="Emails are lowercased, phones stored in E.164; an address another contact has is a 409.",
        dependencies=[ContactWriter],
    ),
    get=Doc("get_contact", "Read a contact", (ContactNotFound,), dependencies=[ContactReader]),
    update=Doc(
        "update_contact",
        "Change a contact",
        (ContactNotFound, IdentityTaken, ValidationFailed, UnknownReference),
        description="A list sent replaces that kind of identity (emails, phones or handles).",
        dependencies=[ContactWriter],
    ),
    delete=Doc(
        "delete_contact",
        "Delete a contact",
        (ContactNotFound, StillInUse),
        description="Only a contact without cases; merge one with cases into another contact instead.",
        dependencies=[ContactWriter],
    ),
)


@router.post(
    "/{contact_id}/merge",
    operation_id="merge_contacts",
    summary="Merge another contact into this one",
    response_model=Contact,
    responses=problem_responses(ContactNotFound, ValidationFailed),
)
async def merge_contacts(
    contact_id: uuid.UUID,
    data: ContactMerge,
    session: SessionDep,
    services: ServicesDep,
    actor: ContactWriter,
) -> Contact:
    """The source's addresses, numbers, handles and cases move here; the source is deleted."""
    row = await services.contacts.merge(session, contact_id, data.source_contact_id, actor)
    return await services.contacts.view(session, row)


@router.get(
    "/{contact_id}/cases",
    operation_id="list_contact_cases",
    summary="A contact's cases",
    response_model=Page[Case],
    responses=problem_responses(BadRequest, ContactNotFound),
)
async def contact_cases(
    contact_id: uuid.UUID,
    session: SessionDep,
    services: ServicesDep,
    actor: CaseReader,
    cursor: Annotated[str | None, cursor_query(int)] = None,
    limit: LimitQuery = 50,
) -> Page[Case]:
    """Newest first."""
    await services.contacts.get(session, contact_id)
    key = decode_cursor(cursor, int)
    after = (key[0], uuid.UUID(int=0)) if key else None
    rows = await services.cases.page(
        session, CaseFilters(requester_id=contact_id), sort="-number", after=after, limit=limit + 1
    )
    return paginate(Page[Case], rows, limit, key=lambda row: [row.number], item=to_case)
