"""``/api/v1/routing/rules``: the ordered assignment rules."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from omnicase.kit.db import SessionDep
from omnicase.kit.errors import UnknownReference, ValidationFailed, problem_responses
from omnicase.kit.identity import AUTH_PROBLEMS
from omnicase.kit.pagination import Int32, LimitQuery, Page, cursor_query, decode_cursor, paginate
from omnicase.kit.routes import Doc, built_on_session, resource_routes
from omnicase.routing.access import Admin, Reader
from omnicase.routing.errors import RuleNotFound
from omnicase.routing.rules.schemas import Rule, RuleCreate, RuleUpdate
from omnicase.routing.rules.service import RuleService

router = APIRouter(prefix="/api/v1/routing/rules", tags=["rules"])


resource_routes(
    router,
    built_on_session(RuleService),
    key="rule_id",
    item=Rule,
    body=RuleCreate,
    changes=RuleUpdate,
    cursor=(Int32, uuid.UUID),
    problems=AUTH_PROBLEMS,
    create=Doc(
        "create_rule",
        "Create an assignment rule",
        (ValidationFailed, UnknownReference),
        description="Rules are evaluated in `position` order when a case is created or reopened and when a field "
        "a rule reads changes; the first enabled rule whose conditions all hold sets the case's queue and "
        "required skills. A case no rule matches stays in the group it came with.",
        dependencies=[Admin],
    ),
    get=Doc("get_rule", "Get a rule", (RuleNotFound,), dependencies=[Reader]),
    update=Doc(
        "update_rule",
        "Change a rule or move it in the order",
        (RuleNotFound, ValidationFailed, UnknownReference),
        description="Fields left out stay as they are; `conditions` and `required_skills` replace the whole value.",
        dependencies=[Admin],
    ),
    delete=Doc("delete_rule", "Delete a rule", (RuleNotFound,), dependencies=[Admin]),
)


# The list filters by state, so it is its own route.
@router.get(
    "",
    dependencies=[Reader],
    operation_id="list_rules",
    summary="List rules in evaluation order",
    responses=AUTH_PROBLEMS | problem_responses(ValidationFailed),
)
async def list_rules(
    session: SessionDep,
    cursor: Annotated[str | None, cursor_query(Int32, uuid.UUID)] = None,
    limit: LimitQuery = 50,
    enabled: Annotated[bool | None, Query(description="Only enabled (or disabled) rules.")] = None,
) -> Page[Rule]:
    after = decode_cursor(cursor, Int32, uuid.UUID)
    items = await RuleService(session).page(after, limit + 1, enabled=enabled)
    return paginate(Page[Rule], items, limit, key=lambda rule: [rule.position, rule.id])
