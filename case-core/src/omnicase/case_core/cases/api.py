"""Case routes: list, read, create, change (If-Match), bulk change, merge, history."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Response

from omnicase.case_core.cases.access import restrict, shown_to, visible_case
from omnicase.case_core.cases.flows import create_case
from omnicase.case_core.cases.repository import SORTS, CaseFilters, CaseKey, CaseRow
from omnicase.case_core.cases.schemas import (
    BulkResponse,
    BulkResult,
    BulkUpdate,
    Case,
    CaseChanges,
    CaseCreate,
    CaseType,
    HistoryEntry,
    MergeRequest,
    to_history_entry,
)
from omnicase.case_core.cases.snapshot import to_case
from omnicase.case_core.errors import CaseClosed, CaseNotFound, PreconditionRequired
from omnicase.case_core.http import ETAG_PATTERN, etag, expected_version
from omnicase.case_core.identity import CaseReader, CaseWriter, PortalReader, PortalWriter
from omnicase.case_core.wiring import ServicesDep
from omnicase.kit.db import SessionDep
from omnicase.kit.errors import (
    BadRequest,
    PreconditionFailed,
    ServiceError,
    StateConflict,
    UnknownReference,
    ValidationFailed,
    problem_responses,
    problem_type,
)
from omnicase.kit.events import CaseStatus, Channel, Priority
from omnicase.kit.identity import AUTH_PROBLEMS
from omnicase.kit.inputs import IsoDateTime
from omnicase.kit.pagination import LimitQuery, Page, cursor_query, decode_cursor, paginate

router = APIRouter(prefix="/api/v1/cases", tags=["cases"], responses=AUTH_PROBLEMS)

# A client reads the case's version here and sends it back in If-Match to change the case.
ETAG_ANSWER: dict[str, Any] = {
    "headers": {
        "ETag": {
            "description": 'The case\'s version, e.g. `"3"`: send it in If-Match to change the case.',
            "schema": {"type": "string"},
        }
    }
}

Sort = Literal["created_at", "-created_at", "updated_at", "-updated_at", "number", "-number"]


def _respond(response: Response, row: CaseRow) -> Case:
    response.headers["ETag"] = etag(row.version)
    return to_case(row)


# A case list's cursor is the sort value and the id; a number and a time are written alike (a
# decimal integer), so one pattern serves every sort, and a cursor is a position in the order
# it is read in (one made under another sort is a position there too, never an error).
CaseCursorQuery = Annotated[str | None, cursor_query(int, uuid.UUID)]
HistoryCursorQuery = Annotated[str | None, cursor_query(int)]


def _cursor_after(cursor: str | None, sort: str) -> CaseKey | None:
    key_type = int if sort.lstrip("-") == "number" else datetime
    decoded = decode_cursor(cursor, key_type, uuid.UUID)
    return None if decoded is None else (decoded[0], decoded[1])


def sort_key(sort: str) -> Callable[[CaseRow], list[Any]]:
    """A case row's cursor key under ``sort``: its value, then its id."""
    column = SORTS[sort][0].name
    return lambda row: [getattr(row, column), row.id]


@router.get(
    "",
    operation_id="list_cases",
    summary="List cases",
    response_model=Page[Case],
    responses=problem_responses(BadRequest),
)
async def list_cases(
    session: SessionDep,
    services: ServicesDep,
    actor: PortalReader,
    status: Annotated[list[CaseStatus], Query(description="Any of these statuses.")] = [],  # noqa: B006
    priority: Annotated[list[Priority], Query()] = [],  # noqa: B006
    channel: Annotated[list[Channel], Query()] = [],  # noqa: B006
    type: Annotated[list[CaseType], Query()] = [],  # noqa: B006
    tag: Annotated[list[str], Query(description="Cases carrying every one of these tags.")] = [],  # noqa: B006
    assignee_id: uuid.UUID | None = None,
    unassigned: Annotated[bool, Query(description="Only cases nobody is assigned to.")] = False,
    group_id: uuid.UUID | None = None,
    brand: Annotated[str | None, Query(max_length=100)] = None,
    brand_id: Annotated[uuid.UUID | None, Query(description="Cases of this brand (`/api/v1/brands`).")] = None,
    requester_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
    problem_id: Annotated[uuid.UUID | None, Query(description="Incidents linked to this problem case.")] = None,
    created_after: IsoDateTime | None = None,
    created_before: IsoDateTime | None = None,
    updated_after: IsoDateTime | None = None,
    updated_before: IsoDateTime | None = None,
    solved_after: IsoDateTime | None = None,
    solved_before: IsoDateTime | None = None,
    q: Annotated[
        str | None,
        Query(max_length=500, description="Full-text search over subjects and messages (web-search syntax)."),
    ] = None,
    sort: Annotated[Sort, Query(description="Field to sort by; `-` for newest/highest first.")] = "-created_at",
    cursor: CaseCursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[Case]:
    """Cases matching every given filter, in a stable order (ties broken by id)."""
    filters = CaseFilters(
        status=[value.value for value in status],
        priority=[value.value for value in priority],
        channel=[value.value for value in channel],
        type=list(type),
        tags=[value.strip().lower() for value in tag],
        assignee_id=assignee_id,
        unassigned=unassigned,
        group_id=group_id,
        brand=brand,
        brand_id=brand_id,
        requester_id=requester_id,
        organization_id=organization_id,
        problem_id=problem_id,
        created_after=created_after,
        created_before=created_before,
        updated_after=updated_after,
        updated_before=updated_before,
        solved_after=solved_after,
        solved_before=solved_before,
        q=q.strip() if q and q.strip() else None,
    )
    rows = await services.cases.page(
        session, restrict(filters, actor), sort=sort, after=_cursor_after(cursor, sort), limit=limit + 1
    )
    return paginate(Page[Case], rows, limit, key=sort_key(sort), item=lambda row: shown_to(to_case(row), actor))


@router.post(
    "",
    operation_id="create_case",
    summary="Create a case",
    status_code=201,
    response_model=Case,
    responses={201: ETAG_ANSWER, **problem_responses(BadRequest, StateConflict, ValidationFailed, UnknownReference)},
)
async def create(
    data: CaseCreate, session: SessionDep, services: ServicesDep, actor: PortalWriter, response: Response
) -> Case:
    """Open a case for a requester (found by email or phone, else created); the description is its first message."""
    row = await create_case(session, services, data, actor)
    response.headers["Location"] = f"/api/v1/cases/{row.id}"
    return shown_to(_respond(response, row), actor)


@router.post(
    "/bulk",
    operation_id="bulk_update_cases",
    summary="Change up to 100 cases",
    response_model=BulkResponse,
    responses=problem_responses(BadRequest),
)
async def bulk_update(data: BulkUpdate, session: SessionDep, services: ServicesDep, actor: CaseWriter) -> BulkResponse:
    """Each case changes entirely or not at all; the result says, per case, what its own update answered."""
    results: list[BulkResult] = []
    for index, item in enumerate(data.items):
        try:
            async with session.begin_nested():
                row = await services.cases.change(
                    session,
                    item.case_id,
                    item.changes,
                    actor,
                    expected_version=item.version,
                    location=f"body.items.{index}.changes",
                )
        except ServiceError as error:
            problem: dict[str, Any] = {
                "type": problem_type(error.slug),
                "title": error.title,
                "status": error.status,
                "detail": error.detail,
            }
            if error.errors:
                problem["errors"] = [field.model_dump() for field in error.errors]
            results.append(BulkResult(case_id=item.case_id, status=error.status, problem=problem))
        else:
            results.append(BulkResult(case_id=item.case_id, status=200, case=to_case(row)))
    return BulkResponse(results=results)


@router.get(
    "/{case_id}",
    operation_id="get_case",
    summary="Read a case",
    response_model=Case,
    responses={200: ETAG_ANSWER, **problem_responses(CaseNotFound)},
)
async def get(
    case_id: uuid.UUID, session: SessionDep, services: ServicesDep, actor: PortalReader, response: Response
) -> Case:
    """The case with its version in the ETag header (send it back in If-Match to change the case)."""
    row = await visible_case(session, services.cases, case_id, actor)
    response.headers["ETag"] = etag(row.version)
    return shown_to(to_case(row), actor)


@router.patch(
    "/{case_id}",
    operation_id="update_case",
    summary="Change a case",
    response_model=Case,
    responses={
        200: ETAG_ANSWER,
        **problem_responses(
            BadRequest,
            CaseNotFound,
            CaseClosed,
            StateConflict,
            PreconditionFailed,
            PreconditionRequired,
            ValidationFailed,
            UnknownReference,
        ),
    },
    # If-Match is required, and the document says so; the route reads it itself so that a
    # missing one is the 428 that says why (FastAPI's own check would make it a 422).
    openapi_extra={
        "parameters": [
            {
                "name": "if-match",
                "in": "header",
                "required": True,
                "description": 'The ETag the case was read with, e.g. `"3"`.',
                "schema": {"type": "string", "pattern": ETAG_PATTERN, "examples": ['"3"']},
            }
        ]
    },
)
async def update(
    case_id: uuid.UUID,
    changes: CaseChanges,
    session: SessionDep,
    services: ServicesDep,
    actor: CaseWriter,
    response: Response,
    if_match: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Case:
    """Change the fields sent; 412 with the current case if someone changed it since it was read."""
    version = expected_version(if_match)
    row = await services.cases.change(session, case_id, changes, actor, expected_version=version)
    return _respond(response, row)


@router.post(
    "/{case_id}/merge",
    operation_id="merge_cases",
    summary="Merge another case into this one",
    response_model=Case,
    responses=problem_responses(CaseNotFound, CaseClosed, ValidationFailed),
)
async def merge(
    case_id: uuid.UUID,
    data: MergeRequest,
    session: SessionDep,
    services: ServicesDep,
    actor: CaseWriter,
    response: Response,
) -> Case:
    """The source's messages and threads move here; the source is closed and points at this case."""
    row = await services.cases.merge(session, case_id, data.source_case_id, actor)
    return _respond(response, row)


@router.get(
    "/{case_id}/history",
    operation_id="list_case_history",
    summary="A case's change history",
    response_model=Page[HistoryEntry],
    responses=problem_responses(BadRequest, CaseNotFound),
)
async def history(
    case_id: uuid.UUID,
    session: SessionDep,
    services: ServicesDep,
    actor: CaseReader,
    cursor: HistoryCursorQuery = None,
    limit: LimitQuery = 100,
) -> Page[HistoryEntry]:
    """Every change, oldest first: who or which rule, when, via which channel, field, old and new value."""
    await services.cases.get(session, case_id)
    key = decode_cursor(cursor, int)
    after = key[0] if key else None
    rows = await services.cases.history(session, case_id, after_id=after, limit=limit + 1)
    return paginate(Page[HistoryEntry], rows, limit, key=lambda row: [row.id], item=to_history_entry)
