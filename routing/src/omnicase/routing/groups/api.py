"""``/api/v1/groups``: the queues cases wait in and how each one routes."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from omnicase.kit.db import SessionDep
from omnicase.kit.errors import UnknownReference, ValidationFailed, problem_responses
from omnicase.kit.identity import AUTH_PROBLEMS
from omnicase.kit.pagination import CursorQuery, LimitQuery, Page, decode_id_cursor
from omnicase.routing.access import Admin, Reader
from omnicase.routing.errors import GroupNotFound, NameTaken, OverflowConflict, StillInUse
from omnicase.routing.groups.schemas import Group, GroupCreate, GroupUpdate
from omnicase.routing.groups.service import GroupService

router = APIRouter(prefix="/api/v1/groups", tags=["groups"])


@router.post(
    "",
    dependencies=[Admin],
    status_code=201,
    operation_id="create_group",
    summary="Create a group (queue)",
    responses=AUTH_PROBLEMS | problem_responses(NameTaken, ValidationFailed, UnknownReference),
)
async def create_group(payload: GroupCreate, session: SessionDep) -> Group:
    return await GroupService(session).create(payload)


@router.get(
    "",
    dependencies=[Reader],
    operation_id="list_groups",
    summary="List groups",
    responses=AUTH_PROBLEMS | problem_responses(ValidationFailed),
)
async def list_groups(session: SessionDep, cursor: CursorQuery = None, limit: LimitQuery = 50) -> Page[Group]:
    return await GroupService(session).page(decode_id_cursor(cursor), limit)


@router.get(
    "/{group_id}",
    dependencies=[Reader],
    operation_id="get_group",
    summary="Get a group",
    responses=AUTH_PROBLEMS | problem_responses(GroupNotFound),
)
async def get_group(group_id: uuid.UUID, session: SessionDep) -> Group:
    return await GroupService(session).get(group_id)


@router.patch(
    "/{group_id}",
    dependencies=[Admin],
    operation_id="update_group",
    summary="Change a group's settings",
    description="Fields left out stay as they are; send `null` to clear the offer timeout (auto-accept) or overflow.",
    responses=AUTH_PROBLEMS
    | problem_responses(GroupNotFound, NameTaken, OverflowConflict, ValidationFailed, UnknownReference),
)
async def update_group(group_id: uuid.UUID, payload: GroupUpdate, session: SessionDep) -> Group:
    return await GroupService(session).update(group_id, payload)


@router.delete(
    "/{group_id}",
    dependencies=[Admin],
    status_code=204,
    operation_id="delete_group",
    summary="Delete a group (refused while rules, overflows or waiting cases use it)",
    responses=AUTH_PROBLEMS | problem_responses(GroupNotFound, StillInUse),
)
async def delete_group(group_id: uuid.UUID, session: SessionDep) -> Response:
    await GroupService(session).delete(group_id)
    return Response(status_code=204)
