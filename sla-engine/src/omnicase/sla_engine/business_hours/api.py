"""Routes of /api/v1/business-hours: schedules and their holidays."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, status

from omnicase.kit.db import SessionDep
from omnicase.kit.errors import problem_responses
from omnicase.kit.identity import area_access
from omnicase.kit.pagination import InvalidCursor
from omnicase.kit.routes import Doc, built_on_session, resource_routes
from omnicase.sla_engine.business_hours.schemas import HolidayCreate, Schedule, ScheduleCreate
from omnicase.sla_engine.business_hours.service import (
    HolidayNotFound,
    ScheduleInUse,
    ScheduleNotFound,
    ScheduleService,
)

router = APIRouter(prefix="/api/v1/business-hours", tags=["business-hours"], dependencies=[Depends(area_access("sla"))])


resource_routes(
    router,
    built_on_session(ScheduleService),
    key="schedule_id",
    item=Schedule,
    body=ScheduleCreate,
    cursor=(str, uuid.UUID),
    limit_first=True,
    create=Doc("create_business_hours_schedule", "Create a business-hours schedule"),
    list_=Doc("list_business_hours_schedules", "List business-hours schedules by name", (InvalidCursor,)),
    get=Doc("get_business_hours_schedule", "Get a schedule", (ScheduleNotFound,)),
    replace=Doc("replace_business_hours_schedule", "Replace a schedule (intervals and holidays)", (ScheduleNotFound,)),
    delete=Doc(
        "delete_business_hours_schedule",
        "Delete a schedule no policy or automation uses",
        (ScheduleNotFound, ScheduleInUse),
    ),
)


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
