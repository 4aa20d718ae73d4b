"""View routes: saved case lists, their cases, and the sidebar's counts in one request."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from omnicase.case_core.cases.api import CaseCursorQuery, _cursor_after, sort_key
from omnicase.case_core.cases.schemas import Case
from omnicase.case_core.cases.snapshot import to_case
from omnicase.case_core.identity import CaseReader
from omnicase.case_core.membership import CallerGroups, MembershipUnavailable
from omnicase.case_core.views.schemas import View, ViewCount, ViewCounts, ViewCreate, ViewFilters, ViewList, ViewUpdate
from omnicase.case_core.views.service import ViewNotFound, ViewService, case_filters
from omnicase.kit.db import SessionDep
from omnicase.kit.errors import BadRequest, Forbidden, ValidationFailed, problem_responses
from omnicase.kit.identity import AUTH_PROBLEMS, CurrentIdentity
from omnicase.kit.pagination import LimitQuery, Page, paginate

router = APIRouter(
    prefix="/api/v1/views", tags=["views"], responses=AUTH_PROBLEMS | problem_responses(MembershipUnavailable)
)


def _views() -> ViewService:
    return ViewService()


ViewsDep = Annotated[ViewService, Depends(_views)]


@router.get("", operation_id="list_views", summary="The views the caller sees", response_model=ViewList)
async def list_views(
    session: SessionDep,
    views: ViewsDep,
    actor: CaseReader,
    groups: CallerGroups,
) -> ViewList:
    """Everyone's views, the caller's personal ones and those shared with the caller's groups; sidebar order."""
    rows = await views.visible(session, actor.name, groups)
    return ViewList(items=[View.model_validate(row, from_attributes=True) for row in rows])


@router.post(
    "",
    operation_id="create_view",
    summary="Save a view",
    status_code=201,
    response_model=View,
    responses=problem_responses(Forbidden),
)
async def create_view(
    data: ViewCreate,
    session: SessionDep,
    views: ViewsDep,
    actor: CaseReader,
    identity: CurrentIdentity,
    response: Response,
) -> View:
    row = await views.create(session, data, actor, admin=identity.role == "admin")
    response.headers["Location"] = f"/api/v1/views/{row.id}"
    return View.model_validate(row, from_attributes=True)


@router.get(
    "/counts",
    operation_id="count_views",
    summary="How many cases each view holds",
    response_model=ViewCounts,
    responses=problem_responses(ViewNotFound, ValidationFailed),
)
async def count_views(
    session: SessionDep,
    views: ViewsDep,
    actor: CaseReader,
    groups: CallerGroups,
    view_ids: Annotated[
        list[uuid.UUID], Query(alias="view_id", description="Views to count; none: every view the caller sees.")
    ] = [],  # noqa: B006
) -> ViewCounts:
    """One query over the cases for all of them, so a sidebar of views loads in one request."""
    counted = await views.counts(session, actor, view_ids, groups)
    return ViewCounts(items=[ViewCount(view_id=view_id, count=count) for view_id, count in counted])


@router.get(
    "/{view_id}",
    operation_id="get_view",
    summary="Read a view",
    response_model=View,
    responses=problem_responses(ViewNotFound),
)
async def get_view(
    view_id: uuid.UUID,
    session: SessionDep,
    views: ViewsDep,
    actor: CaseReader,
    groups: CallerGroups,
) -> View:
    return View.model_validate(await views.get(session, view_id, actor, groups), from_attributes=True)


@router.get(
    "/{view_id}/cases",
    operation_id="list_view_cases",
    summary="The cases of a view, in its sort order",
    response_model=Page[Case],
    responses=problem_responses(ViewNotFound, BadRequest),
)
async def list_view_cases(
    view_id: uuid.UUID,
    session: SessionDep,
    views: ViewsDep,
    actor: CaseReader,
    groups: CallerGroups,
    cursor: CaseCursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[Case]:
    view = await views.get(session, view_id, actor, groups)
    filters = case_filters(ViewFilters.model_validate(view.filters), actor)
    sort = view.sort
    rows = await views.cases(session, filters, sort=sort, after=_cursor_after(cursor, sort), limit=limit + 1)
    return paginate(Page[Case], rows, limit, key=sort_key(sort), item=to_case)


@router.patch(
    "/{view_id}",
    operation_id="update_view",
    summary="Change a view",
    response_model=View,
    responses=problem_responses(ViewNotFound, Forbidden, ValidationFailed),
)
async def update_view(
    view_id: uuid.UUID,
    data: ViewUpdate,
    session: SessionDep,
    views: ViewsDep,
    actor: CaseReader,
    identity: CurrentIdentity,
) -> View:
    row = await views.update(session, view_id, data, actor, admin=identity.role == "admin")
    return View.model_validate(row, from_attributes=True)


@router.delete(
    "/{view_id}",
    operation_id="delete_view",
    summary="Delete a view",
    status_code=204,
    responses=problem_responses(ViewNotFound, Forbidden),
)
async def delete_view(
    view_id: uuid.UUID, session: SessionDep, views: ViewsDep, actor: CaseReader, identity: CurrentIdentity
) -> Response:
    await views.delete(session, view_id, actor, admin=identity.role == "admin")
    return Response(status_code=204)
