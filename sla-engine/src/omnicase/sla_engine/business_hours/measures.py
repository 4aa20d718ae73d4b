"""The time measure of a target: calendar time, or a schedule's working time (cached per unit of work)."""

from __future__ import annotations

import uuid

from omnicase.kit.business_time import CalendarTime, TimeMeasure
from omnicase.sla_engine.business_hours.repository import ScheduleRepository

CALENDAR = CalendarTime()


class Measures:
    def __init__(self, schedules: ScheduleRepository) -> None:
        self.schedules = schedules
        self._cache: dict[uuid.UUID, TimeMeasure] = {}

    async def get(self, business_hours: bool, schedule_id: uuid.UUID | None) -> TimeMeasure:
        if not business_hours or schedule_id is None:
            return CALENDAR
        if schedule_id not in self._cache:
            schedule = await self.schedules.get(schedule_id)
            # A schedule cannot be deleted while a policy uses it; calendar time is the safe fallback regardless.
            self._cache[schedule_id] = schedule.calendar() if schedule else CALENDAR
        return self._cache[schedule_id]
