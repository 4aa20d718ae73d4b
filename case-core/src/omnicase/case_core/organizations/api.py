"""Organization routes: CRUD, search, merge."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from omnicase.case_core.errors import DomainTaken, OrganizationNotFound
from omnicase.case_core.identity import ContactReader, ContactWriter
from omnicase.case_core.organizations.schemas import (
    Organization,
    OrganizationCreate,
    OrganizationMerge,
    OrganizationUpdate,
)
from omnicase.case_core.organizations.service import OrganizationService
from omnicase.case_core.wiring import ServicesDep
from omnicase.kit.db import SessionDep
from omnicase.kit.errors import BadRequest, ValidationFailed, problem_responses
from omnicase.kit.identity import AUTH_PROBLEMS
from omnicase.kit.pagination import CursorQuery, LimitQuery, Page, decode_id_cursor, paginate
from omnicase.kit.routes import Doc, resource_routes

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


def _organizations(services: ServicesDep) -> OrganizationService:
    return services.organizations


resource_routes(
    router,
    _organizations,
    with_session=True,
    location=True,
    view="view",
    key="organization_id",
    item=Organization,
    body=OrganizationCreate,
    changes=OrganizationUpdate,
    create=Doc(
        "create_organization",
        "Create an organization",
        (DomainTaken, ValidationFailed),
        description="New contacts whose email domain is one of its domains join it.",
        dependencies=[ContactWriter],
    ),
    get=Doc("get_organization", "Read an organization", (OrganizationNotFound,), dependencies=[ContactReader]),
    update=Doc(
        "update_organization",
        "Change an organization",
        (OrganizationNotFound, DomainTaken, ValidationFailed),
        dependencies=[ContactWriter],
    ),
    delete=Doc(
        "delete_organization",
        "Delete an organization",
        (OrganizationNotFound,),
        description="Its contacts and cases stay, without an organization.",
        dependencies=[ContactWriter],
    ),
)


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
