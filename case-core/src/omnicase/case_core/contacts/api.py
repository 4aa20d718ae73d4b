"""Contact routes: CRUD, search, merge, a contact's cases."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from omnicase.case_core.cases.repository import CaseFilters
from omnicase.case_core.cases.schemas import Case
from omnicase.case_core.cases.snapshot import to_case
from omnicase.case_core.contacts.schemas import Contact, ContactCreate, ContactMerge, ContactUpdate
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


@router.post(
    "",
    operation_id="create_contact",
    summary="Create a contact",
    status_code=201,
    response_model=Contact,
    responses=problem_responses(IdentityTaken, ValidationFailed, UnknownReference),
)
async def create_contact(
    data: ContactCreate, session: SessionDep, services: ServicesDep, actor: ContactWriter, response: Response
) -> Contact:
    """Emails are lowercased, phones stored in E.164; an address another contact has is a 409."""
    row = await services.contacts.create(session, data)
    response.headers["Location"] = f"/api/v1/contacts/{row.id}"
    return await services.contacts.view(session, row)


@router.get(
    "/{contact_id}",
    operation_id="get_contact",
    summary="Read a contact",
    response_model=Contact,
    responses=problem_responses(ContactNotFound),
)
async def get_contact(
    contact_id: uuid.UUID, session: SessionDep, services: ServicesDep, actor: ContactReader
) -> Contact:
    return await services.contacts.view(session, await services.contacts.get(session, contact_id))


@router.patch(
    "/{contact_id}",
    operation_id="update_contact",
    summary="Change a contact",
    response_model=Contact,
    responses=problem_responses(ContactNotFound, IdentityTaken, ValidationFailed, UnknownReference),
)
async def update_contact(
    contact_id: uuid.UUID, data: ContactUpdate, session: SessionDep, services: ServicesDep, actor: ContactWriter
) -> Contact:
    """A list sent replaces that kind of identity (emails, phones or handles)."""
    return await services.contacts.view(session, await services.contacts.update(session, contact_id, data))


@router.delete(
    "/{contact_id}",
    operation_id="delete_contact",
    summary="Delete a contact",
    status_code=204,
    response_class=Response,
    responses=problem_responses(ContactNotFound, StillInUse),
)
async def delete_contact(
    contact_id: uuid.UUID, session: SessionDep, services: ServicesDep, actor: ContactWriter
) -> Response:
    """Only a contact without cases; merge one with cases into another contact instead."""
    await services.contacts.delete(session, contact_id)
    return Response(status_code=204)


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
