"""``/api/v1/groups``: the queues cases wait in and how each one routes."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response

from omnicase.kit.clock import utcnow
from omnicase.kit.db import SessionDep
from omnicase.kit.errors import (
    NOT_FOUND_CODE,
    FieldError,
    UnknownReference,
    ValidationFailed,
    problem_responses,
    refusal,
)
from omnicase.kit.identity import AUTH_PROBLEMS
from omnicase.kit.ids import uuid7
from omnicase.kit.pagination import CursorQuery, LimitQuery, Page, decode_id_cursor
from omnicase.routing.access import Admin, Reader
from omnicase.routing.errors import GroupNotFound, NameTaken, OverflowConflict, StillInUse
from omnicase.routing.groups.repository import GroupRepository
from omnicase.routing.groups.schemas import Group, GroupCreate, GroupUpdate

router = APIRouter(prefix="/api/v1/groups", tags=["groups"])


def _missing(group_id: uuid.UUID) -> GroupNotFound:
    return GroupNotFound(f"Group {group_id} does not exist.")


async def _check(repo: GroupRepository, values: dict[str, Any], group_id: uuid.UUID | None, given: set[str]) -> None:
    """Rules across fields: overflow needs both a limit and a fallback that exists and is another queue.

    What the body alone breaks (``given``: the fields it sent) is a 422, as its schema says too;
    what breaks only with the group's stored settings or its place among the queues (half an
    overflow whose other half is stored as none, a fallback that is the group itself or leads
    back to it) is a 409 naming the field.
    """
    errors: list[FieldError] = []
    conflicts: list[FieldError] = []
    limit, fallback = values.get("overflow_after_seconds"), values.get("overflow_group_id")
    if (limit is None) != (fallback is None):
        missing = "overflow_group_id" if fallback is None else "overflow_after_seconds"
        half = FieldError(
            field=f"body.{missing}",
            message="overflow needs both a wait limit and a fallback queue",
            code="required_with",
        )
        (errors if missing in given else conflicts).append(half)
    if fallback is not None:
        if fallback == group_id:
            conflicts.append(
                FieldError(field="body.overflow_group_id", message="a queue cannot overflow into itself", code="self")
            )
        elif not await repo.existing([fallback]):
            errors.append(FieldError(field="body.overflow_group_id", message="no such group", code=NOT_FOUND_CODE))
        elif group_id is not None and group_id in await repo.overflow_chain(fallback):
            conflicts.append(
                FieldError(
                    field="body.overflow_group_id",
                    message="the fallback queue overflows back into this one",
                    code="cycle",
                )
            )
    if errors:
        raise refusal("The group's overflow settings are not valid.", errors)
    if conflicts:
        raise OverflowConflict(
            "The group's overflow settings cannot be combined with how it is set now.", errors=conflicts
        )
    if "name" in values and await repo.name_taken(values["name"], other_than=group_id):
        raise NameTaken(f"A group named {values['name']!r} exists already.")


@router.post(
    "",
    dependencies=[Admin],
    status_code=201,
    operation_id="create_group",
    summary="Create a group (queue)",
    responses=AUTH_PROBLEMS | problem_responses(NameTaken, ValidationFailed, UnknownReference),
)
async def create_group(payload: GroupCreate, session: SessionDep) -> Group:
    repo = GroupRepository(session)
    values = payload.model_dump()
    await _check(repo, values, None, set(values))
    group_id, now = uuid7(), utcnow()
    await repo.insert({**values, "id": group_id, "created_at": now, "updated_at": now})
    return await repo.get_or_raise(group_id, _missing)


@router.get(
    "",
    dependencies=[Reader],
    operation_id="list_groups",
    summary="List groups",
    responses=AUTH_PROBLEMS | problem_responses(ValidationFailed),
)
async def list_groups(session: SessionDep, cursor: CursorQuery = None, limit: LimitQuery = 50) -> Page[Group]:
    return await GroupRepository(session).page(decode_id_cursor(cursor), limit)


@router.get(
    "/{group_id}",
    dependencies=[Reader],
    operation_id="get_group",
    summary="Get a group",
    responses=AUTH_PROBLEMS | problem_responses(GroupNotFound),
)
async def get_group(group_id: uuid.UUID, session: SessionDep) -> Group:
    return await GroupRepository(session).get_or_raise(group_id, _missing)


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
    repo = GroupRepository(session)
    current = await repo.get_or_raise(group_id, _missing)
    changes = payload.model_dump(exclude_unset=True)
    merged = {**current.model_dump(), **changes}
    overflow = {key: merged[key] for key in ("overflow_after_seconds", "overflow_group_id")}
    await _check(repo, {**changes, **overflow}, group_id, set(changes))
    if changes:
        await repo.update(group_id, {**changes, "updated_at": utcnow()})
    return await repo.get_or_raise(group_id, _missing)


@router.delete(
    "/{group_id}",
    dependencies=[Admin],
    status_code=204,
    operation_id="delete_group",
    summary="Delete a group (refused while rules, overflows or waiting cases use it)",
    responses=AUTH_PROBLEMS | problem_responses(GroupNotFound, StillInUse),
)
async def delete_group(group_id: uuid.UUID, session: SessionDep) -> Response:
    repo = GroupRepository(session)
    await repo.get_or_raise(group_id, _missing)
    uses = await repo.uses(group_id)
    if uses:
        raise StillInUse(f"Group {group_id} is still in use: {'; '.join(uses)}.")
    await repo.delete(group_id)
    return Response(status_code=204)
