"""``/api/v1/groups``: the queues cases wait in and how each one routes."""

from __future__ import annotations

from fastapi import APIRouter

from omnicase.kit.errors import UnknownReference, ValidationFailed
from omnicase.kit.identity import AUTH_PROBLEMS
from omnicase.kit.routes import Doc, built_on_session, resource_routes
from omnicase.routing.access import Admin, Reader
from omnicase.routing.errors import GroupNotFound, NameTaken, OverflowConflict, StillInUse
from omnicase.routing.groups.schemas import Group, GroupCreate, GroupUpdate
from omnicase.routing.groups.service import GroupService

router = APIRouter(prefix="/api/v1/groups", tags=["groups"])

resource_routes(
    router,
    built_on_session(GroupService),
    key="group_id",
    item=Group,
    body=GroupCreate,
    changes=GroupUpdate,
    problems=AUTH_PROBLEMS,
    create=Doc(
        "create_group",
        "Create a group (queue)",
        (NameTaken, ValidationFailed, UnknownReference),
        dependencies=[Admin],
    ),
    list_=Doc("list_groups", "List groups", (ValidationFailed,), dependencies=[Reader]),
    get=Doc("get_group", "Get a group", (GroupNotFound,), dependencies=[Reader]),
    update=Doc(
        "update_group",
        "Change a group's settings",
        (GroupNotFound, NameTaken, OverflowConflict, ValidationFailed, UnknownReference),
        description="Fields left out stay as they are; "
        "send `null` to clear the offer timeout (auto-accept) or overflow.",
        dependencies=[Admin],
    ),
    delete=Doc(
        "delete_group",
        "Delete a group (refused while rules, overflows or waiting cases use it)",
        (GroupNotFound, StillInUse),
        dependencies=[Admin],
    ),
)
