"""Schedule rules: well-formed intervals, holidays in order, no deletion while in use."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.clock import utcnow
from omnicase.kit.errors import Conflict, FieldError, NotFound, ValidationFailed
from omnicase.kit.ids import uuid7
from omnicase.kit.pagination import Page, decode_cursor
from omnicase.sla_engine.business_hours.repository import ScheduleRepository
from omnicase.sla_engine.business_hours.schemas import (
    HolidayCreate,
    Schedule,
    ScheduleCreate,
)
from omnicase.sla_engine.resync import request_resync

# Longer "holidays" are a closed office: beyond this, due times would lie years away.
MAX_HOLIDAY_DAYS = 366


class ScheduleNotFound(NotFound):
    slug, title = "schedule-not-found", "Schedule not found"


def _missing(schedule_id: uuid.UUID) -> ScheduleNotFound:
    return ScheduleNotFound(f"Schedule {schedule_id} does not exist.")


class HolidayNotFound(NotFound):
    slug, title = "holiday-not-found", "Holiday not found"


class ScheduleInUse(Conflict):
    slug, title = "schedule-in-use", "Schedule in use"


def _check(payload: ScheduleCreate) -> None:
    # Intervals need no check of their own: an end at or before the start runs past midnight and
    # overlapping ones are one stretch (Interval), so any pair of times is a schedule.
    errors: list[FieldError] = []
    for index, holiday in enumerate(payload.holidays):
        errors += _holiday_errors(holiday, f"body.holidays.{index}")
    if errors:
        raise ValidationFailed("The schedule is not valid.", errors=errors)


def _holiday_errors(holiday: HolidayCreate, prefix: str) -> list[FieldError]:
    if holiday.end_date is not None and holiday.end_date < holiday.start_date:
        return [FieldError(field=f"{prefix}.end_date", message="must not be before start_date", code="date_order")]
    if holiday.end_date is not None and (holiday.end_date - holiday.start_date).days >= MAX_HOLIDAY_DAYS:
        return [
            FieldError(
                field=f"{prefix}.end_date", message=f"a holiday lasts at most {MAX_HOLIDAY_DAYS} days", code="too_long"
            )
        ]
    return []


def _holiday_row(holiday: HolidayCreate) -> dict[str, Any]:
    return {
        "id": str(uuid7()),
        "name": holiday.name,
        "start_date": holiday.start_date.isoformat(),
        "end_date": (holiday.end_date or holiday.start_date).isoformat(),
    }


class ScheduleService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.repository = ScheduleRepository(session)

    async def page(self, cursor: str | None, limit: int) -> Page[Schedule]:
        """The schedules by name, a page after ``cursor``."""
        return await self.repository.by_name(decode_cursor(cursor, str, uuid.UUID), limit)

    async def create(self, payload: ScheduleCreate) -> Schedule:
        _check(payload)
        now = utcnow()
        return await self.repository.insert(
            {
                "id": uuid7(),
                "name": payload.name,
                "time_zone": payload.time_zone,
                "intervals": [interval.model_dump(mode="json") for interval in payload.intervals],
                "holidays": [_holiday_row(holiday) for holiday in payload.holidays],
                "created_at": now,
                "updated_at": now,
            }
        )

    async def get(self, schedule_id: uuid.UUID) -> Schedule:
        return await self.repository.get_or_raise(schedule_id, _missing)

    async def replace(self, schedule_id: uuid.UUID, payload: ScheduleCreate) -> Schedule:
        _check(payload)
        updated = await self.repository.update(
            schedule_id,
            {
                "name": payload.name,
                "time_zone": payload.time_zone,
                "intervals": [interval.model_dump(mode="json") for interval in payload.intervals],
                "holidays": [_holiday_row(holiday) for holiday in payload.holidays],
                "updated_at": utcnow(),
            },
        )
        if updated is None:
            raise _missing(schedule_id)
        await self._resync_if_used(schedule_id)
        return updated

    async def add_holiday(self, schedule_id: uuid.UUID, holiday: HolidayCreate) -> Schedule:
        errors = _holiday_errors(holiday, "body")
        if errors:
            raise ValidationFailed("The holiday is not valid.", errors=errors)
        schedule = await self.repository.get(schedule_id, for_update=True)
        if schedule is None:
            raise _missing(schedule_id)
        rows = [item.model_dump(mode="json") for item in schedule.holidays] + [_holiday_row(holiday)]
        updated = await self.repository.update(schedule_id, {"holidays": rows, "updated_at": utcnow()})
        assert updated is not None
        await self._resync_if_used(schedule_id)
        return updated

    async def remove_holiday(self, schedule_id: uuid.UUID, holiday_id: uuid.UUID) -> Schedule:
        schedule = await self.repository.get(schedule_id, for_update=True)
        if schedule is None:
            raise _missing(schedule_id)
        rows = [item.model_dump(mode="json") for item in schedule.holidays if item.id != holiday_id]
        if len(rows) == len(schedule.holidays):
            raise HolidayNotFound(f"Holiday {holiday_id} is not part of schedule {schedule_id}.")
        updated = await self.repository.update(schedule_id, {"holidays": rows, "updated_at": utcnow()})
        assert updated is not None
        await self._resync_if_used(schedule_id)
        return updated

    async def _resync_if_used(self, schedule_id: uuid.UUID) -> None:
        # Due times counted in this schedule's hours move with it (cached copies reload either
        # way: the write itself moved the configuration version).
        if await self.repository.in_use(schedule_id):
            await request_resync(self.session)

    async def delete(self, schedule_id: uuid.UUID) -> None:
        if await self.repository.get(schedule_id, for_update=True) is None:
            raise _missing(schedule_id)
        if await self.repository.in_use(schedule_id):
            raise ScheduleInUse(f"Schedule {schedule_id} is used by a policy or automation; change those first.")
        await self.repository.delete(schedule_id)
