"""Routes of /api/v1/automations."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, status

from omnicase.kit.db import SessionDep
from omnicase.kit.errors import UnknownReference, ValidationFailed, problem_responses
from omnicase.kit.identity import area_access
from omnicase.kit.pagination import Int32, InvalidCursor, LimitQuery, Page, cursor_query
from omnicase.sla_engine.automations.schemas import Automation, AutomationCreate
from omnicase.sla_engine.automations.service import AutomationNotFound, AutomationService

router = APIRouter(prefix="/api/v1/automations", tags=["automations"], dependencies=[Depends(area_access("sla"))])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    operation_id="create_automation",
    summary="Create an automation",
    responses=problem_responses(ValidationFailed, UnknownReference),
)
async def create_automation(payload: AutomationCreate, session: SessionDep) -> Automation:
    return await AutomationService(session).create(payload)


@router.get(
    "",
    operation_id="list_automations",
    summary="List automations in evaluation order",
    responses=problem_responses(InvalidCursor),
)
async def list_automations(
    session: SessionDep, limit: LimitQuery = 50, cursor: Annotated[str | None, cursor_query(Int32, uuid.UUID)] = None
) -> Page[Automation]:
    return await AutomationService(session).page(cursor, limit)


@router.get(
    "/{automation_id}",
    operation_id="get_automation",
    summary="Get an automation",
    responses=problem_responses(AutomationNotFound),
)
async def get_automation(automation_id: uuid.UUID, session: SessionDep) -> Automation:
    return await AutomationService(session).get(automation_id)


@router.put(
    "/{automation_id}",
    operation_id="replace_automation",
    summary="Replace an automation (cases pick it up with their next change)",
    responses=problem_responses(AutomationNotFound, ValidationFailed, UnknownReference),
)
async def replace_automation(automation_id: uuid.UUID, payload: AutomationCreate, session: SessionDep) -> Automation:
    return await AutomationService(session).replace(automation_id, payload)


@router.delete(
    "/{automation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="delete_automation",
    summary="Delete an automation",
    responses=problem_responses(AutomationNotFound),
)
async def delete_automation(automation_id: uuid.UUID, session: SessionDep) -> None:
    await AutomationService(session).delete(automation_id)
