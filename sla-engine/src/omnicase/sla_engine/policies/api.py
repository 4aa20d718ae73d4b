"""Routes of /api/v1/sla/policies."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, status

from omnicase.kit.db import SessionDep
from omnicase.kit.errors import UnknownReference, ValidationFailed, problem_responses
from omnicase.kit.identity import area_access
from omnicase.kit.pagination import Int32, InvalidCursor, LimitQuery, Page, cursor_query
from omnicase.sla_engine.policies.schemas import Policy, PolicyCreate
from omnicase.sla_engine.policies.service import PolicyNotFound, PolicyService

router = APIRouter(prefix="/api/v1/sla/policies", tags=["sla-policies"], dependencies=[Depends(area_access("sla"))])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    operation_id="create_sla_policy",
    summary="Create an SLA policy",
    responses=problem_responses(ValidationFailed, UnknownReference),
)
async def create_policy(payload: PolicyCreate, session: SessionDep) -> Policy:
    return await PolicyService(session).create(payload)


@router.get(
    "",
    operation_id="list_sla_policies",
    summary="List SLA policies in evaluation order",
    responses=problem_responses(InvalidCursor),
)
async def list_policies(
    session: SessionDep, limit: LimitQuery = 50, cursor: Annotated[str | None, cursor_query(Int32, uuid.UUID)] = None
) -> Page[Policy]:
    return await PolicyService(session).page(cursor, limit)


@router.get(
    "/{policy_id}",
    operation_id="get_sla_policy",
    summary="Get an SLA policy",
    responses=problem_responses(PolicyNotFound),
)
async def get_policy(policy_id: uuid.UUID, session: SessionDep) -> Policy:
    return await PolicyService(session).get(policy_id)


@router.put(
    "/{policy_id}",
    operation_id="replace_sla_policy",
    summary="Replace an SLA policy (cases pick it up with their next change)",
    responses=problem_responses(PolicyNotFound, ValidationFailed, UnknownReference),
)
async def replace_policy(policy_id: uuid.UUID, payload: PolicyCreate, session: SessionDep) -> Policy:
    return await PolicyService(session).replace(policy_id, payload)


@router.delete(
    "/{policy_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="delete_sla_policy",
    summary="Delete an SLA policy",
    responses=problem_responses(PolicyNotFound),
)
async def delete_policy(policy_id: uuid.UUID, session: SessionDep) -> None:
    await PolicyService(session).delete(policy_id)
