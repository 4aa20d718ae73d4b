"""Organization routes: CRUD, search, merge."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from omnicase.case_core.errors import DomainTaken, OrganizationNotFound
from omnicase.case_core.identity import ContactReader, ContactWriter
from omnicase.case_core.organizations.schemas import (
    Organization,
    OrganizationCreate,
    OrganizationMerge,
    OrganizationUpdate,
)
from omnicase.case_core.wiring import ServicesDep
from omnicase.kit.db import SessionDep
from omnicase.kit.errors import BadRequest, ValidationFailed, problem_responses
from omnicase.kit.identity import AUTH_PROBLEMS
from omnicase.kit.pagination import CursorQuery, LimitQuery, Page, decode_id_cursor, paginate

router = APIRouter(prefix="/api/v1/organizations", tags=["organizations"], responses=AUTH_PROBLEMS)


@router.get(
    "",
    operation_id="list_organizations",
    summary="List or search organizations",
    response_model=Page[Organization],
    responses=problem_responses(BadRequest),
)
async def list_organizations(
    session: SessionDep,
    services: ServicesDep,
    actor: ContactReader,
    q: Annotated[str | None, Query(max_length=253, description="Prefix of a name or an email domain.")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[Organization]:
    after = decode_id_cursor(cursor)
    rows = await services.organizations.search(session, q=q, after=after, limit=limit + 1)
    items = await services.organizations.views(session, rows[:limit])
    return paginate(Page[Organization], rows, limit, key=lambda row: [row.id], items=items)


@router.post(
    "",
    operation_id="create_organization",
    summary="Create an organization",
    status_code=201,
    response_model=Organization,
    responses=problem_responses(DomainTaken, ValidationFailed),
)
async def create_organization(
    data: OrganizationCreate, session: SessionDep, services: ServicesDep, actor: ContactWriter, response: Response
) -> Organization:
    """New contacts whose email domain is one of its domains join it."""
    row = await services.organizations.create(session, data)
    response.headers["Location"] = f"/api/v1/organizations/{row.id}"
    return (await services.organizations.views(session, [row]))[0]


@router.get(
    "/{organization_id}",
    operation_id="get_organization",
    summary="Read an organization",
    response_model=Organization,
    responses=problem_responses(OrganizationNotFound),
)
async def get_organization(
    organization_id: uuid.UUID, session: SessionDep, services: ServicesDep, actor: ContactReader
) -> Organization:
    row = await services.organizations.get(session, organization_id)
    return (await services.organizations.views(session, [row]))[0]


@router.patch(
    "/{organization_id}",
    operation_id="update_organization",
    summary="Change an organization",
    response_model=Organization,
    responses=problem_responses(OrganizationNotFound, DomainTaken, ValidationFailed),
)
async def update_organization(
    organization_id: uuid.UUID,
    data: OrganizationUpdate,
    session: SessionDep,
    services: ServicesDep,
    actor: ContactWriter,
) -> Organization:
    row = await services.organizations.update(session, organization_id, data)
    return (await services.organizations.views(session, [row]))[0]


@router.delete(
    "/{organization_id}",
    operation_id="delete_organization",
    summary="Delete an organization",
    status_code=204,
    response_class=Response,
    responses=problem_responses(OrganizationNotFound),
)
async def delete_organization(
    organization_id: uuid.UUID, session: SessionDep, services: ServicesDep, actor: ContactWriter
) -> Response:
    """Its contacts and cases stay, without an organization."""
    await services.organizations.delete(session, organization_id)
    return Response(status_code=204)


@router.post(
    "/{organization_id}/merge",
    operation_id="merge_organizations",
    summary="Merge another organization into this one",
    response_model=Organization,
    responses=problem_responses(OrganizationNotFound, ValidationFailed),
)
async def merge_organizations(
    organization_id: uuid.UUID,
    data: OrganizationMerge,
    session: SessionDep,
    services: ServicesDep,
    actor: ContactWriter,
) -> Organization:
    """The source's domains, contacts and cases move here; the source is deleted."""
    row = await services.organizations.merge(session, organization_id, data.source_organization_id, actor)
    return (await services.organizations.views(session, [row]))[0]
