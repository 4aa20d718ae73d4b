"""``/api/v1/routing/rules``: the ordered assignment rules."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from omnicase.kit.db import SessionDep
from omnicase.kit.errors import UnknownReference, ValidationFailed, problem_responses
from omnicase.kit.identity import AUTH_PROBLEMS
from omnicase.kit.pagination import Int32, LimitQuery, Page, cursor_query, decode_cursor, paginate
from omnicase.routing.access import Admin, Reader
from omnicase.routing.errors import RuleNotFound
from omnicase.routing.rules.schemas import Rule, RuleCreate, RuleUpdate
from omnicase.routing.rules.service import RuleService

router = APIRouter(prefix="/api/v1/routing/rules", tags=["rules"])


@router.post(
    "",
    dependencies=[Admin],
    status_code=201,
    operation_id="create_rule",
    summary="Create an assignment rule",
    description="Rules are evaluated in `position` order when a case is created or reopened and when a field "
    "a rule reads changes; the first enabled rule whose conditions all hold sets the case's queue and "
    "required skills. A case no rule matches stays in the group it came with.",
    responses=AUTH_PROBLEMS | problem_responses(ValidationFailed, UnknownReference),
)
async def create_rule(payload: RuleCreate, session: SessionDep) -> Rule:
    return await RuleService(session).create(payload)


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


@router.get(
    "/{rule_id}",
    dependencies=[Reader],
    operation_id="get_rule",
    summary="Get a rule",
    responses=AUTH_PROBLEMS | problem_responses(RuleNotFound),
)
async def get_rule(rule_id: uuid.UUID, session: SessionDep) -> Rule:
    return await RuleService(session).get(rule_id)


@router.patch(
    "/{rule_id}",
    dependencies=[Admin],
    operation_id="update_rule",
    summary="Change a rule or move it in the order",
    description="Fields left out stay as they are; `conditions` and `required_skills` replace the whole value.",
    responses=AUTH_PROBLEMS | problem_responses(RuleNotFound, ValidationFailed, UnknownReference),
)
async def update_rule(rule_id: uuid.UUID, payload: RuleUpdate, session: SessionDep) -> Rule:
    return await RuleService(session).update(rule_id, payload)


@router.delete(
    "/{rule_id}",
    dependencies=[Admin],
    status_code=204,
    operation_id="delete_rule",
    summary="Delete a rule",
    responses=AUTH_PROBLEMS | problem_responses(RuleNotFound),
)
async def delete_rule(rule_id: uuid.UUID, session: SessionDep) -> Response:
    await RuleService(session).delete(rule_id)
    return Response(status_code=204)
