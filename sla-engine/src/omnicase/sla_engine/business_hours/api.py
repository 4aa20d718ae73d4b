"""Routes of /api/v1/business-hours: schedules and their holidays."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, status

from omnicase.kit.db import SessionDep
from omnicase.kit.errors import problem_responses
from omnicase.kit.identity import area_access
from omnicase.kit.pagination import InvalidCursor, LimitQuery, Page, cursor_query
from omnicase.sla_engine.business_hours.schemas import HolidayCreate, Schedule, ScheduleCreate
from omnicase.sla_engine.business_hours.service import (
    HolidayNotFound,
    ScheduleInUse,
    ScheduleNotFound,
    ScheduleService,
)

router = APIRouter(prefix="/api/v1/business-hours", tags=["business-hours"], dependencies=[Depends(area_access("sla"))])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    operation_id="create_business_hours_schedule",
    summary="Create a business-hours schedule",
)
async def create_schedule(payload: ScheduleCreate, session: SessionDep) -> Schedule:
    return await ScheduleService(session).create(payload)


@router.get(
    "",
    operation_id="list_business_hours_schedules",
    summary="List business-hours schedules by name",
    responses=problem_responses(InvalidCursor),
)
async def list_schedules(
    session: SessionDep, limit: LimitQuery = 50, cursor: Annotated[str | None, cursor_query(str, uuid.UUID)] = None
) -> Page[Schedule]:
    return await ScheduleService(session).page(cursor, limit)


@router.get(
    "/{schedule_id}",
    operation_id="get_business_hours_schedule",
    summary="Get a schedule",
    responses=problem_responses(ScheduleNotFound),
)
async def get_schedule(schedule_id: uuid.UUID, session: SessionDep) -> Schedule:
    return await ScheduleService(session).get(schedule_id)


@router.put(
    "/{schedule_id}",
    operation_id="replace_business_hours_schedule",
    summary="Replace a schedule (intervals and holidays)",
    responses=problem_responses(ScheduleNotFound),
)
async def replace_schedule(schedule_id: uuid.UUID, payload: ScheduleCreate, session: SessionDep) -> Schedule:
    return await ScheduleService(session).replace(schedule_id, payload)


@router.delete(
    "/{schedule_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="delete_business_hours_schedule",
    summary="Delete a schedule no policy or automation uses",
    responses=problem_responses(ScheduleNotFound, ScheduleInUse),
)
async def delete_schedule(schedule_id: uuid.UUID, session: SessionDep) -> None:
    await ScheduleService(session).delete(schedule_id)


@router.post(
    "/{schedule_id}/holidays",
    status_code=status.HTTP_201_CREATED,
    operation_id="add_business_hours_holiday",
    summary="Add a holiday (one day or a range) to a schedule",
    responses=problem_responses(ScheduleNotFound),
)
async def add_holiday(schedule_id: uuid.UUID, payload: HolidayCreate, session: SessionDep) -> Schedule:
    return await ScheduleService(session).add_holiday(schedule_id, payload)


@router.delete(
    "/{schedule_id}/holidays/{holiday_id}",
    operation_id="remove_business_hours_holiday",
    summary="Remove a holiday from a schedule",
    responses=problem_responses(ScheduleNotFound, HolidayNotFound),
)
async def remove_holiday(schedule_id: uuid.UUID, holiday_id: uuid.UUID, session: SessionDep) -> Schedule:
    return await ScheduleService(session).remove_holiday(schedule_id, holiday_id)
