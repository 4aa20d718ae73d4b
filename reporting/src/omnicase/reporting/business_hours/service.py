"""Counts the business-hours durations of cases in their schedule's working time (the worker's turn).

The consumer marks a case ``business_stale`` when its first reply, its solve or its schedule
moves; a turn reads the schedules it needs from sla-engine first (no transaction held over a
call), then claims up to ``batch`` stale cases (``FOR UPDATE SKIP LOCKED``: replicas share the
work) and writes their durations, counted by the kit's :class:`~omnicase.kit.business_time.BusinessCalendar`.
A case whose schedule is gone gets none (null), as a case without a schedule.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from omnicase.kit.business_time import BusinessCalendar, NoBusinessTime
from omnicase.kit.db import Database
from omnicase.reporting.business_hours.repository import BusinessHoursRepository
from omnicase.reporting.business_hours.schedules import ScheduleSource

BATCH = 500


def _between(calendar: BusinessCalendar | None, start: datetime, end: datetime | None) -> float | None:
    if calendar is None or end is None:
        return None
    try:
        return calendar.between(start, end)
    except NoBusinessTime:
        return None


class BusinessHoursService:
    def __init__(self, database: Database, schedules: ScheduleSource, batch: int = BATCH) -> None:
        self.database = database
        self.schedules = schedules
        self.batch = batch

    async def count_once(self) -> int:
        """Count one batch of stale cases; returns how many were claimed."""
        async with self.database.unit_of_work() as session:
            peek = await BusinessHoursRepository(session).stale(self.batch)
        calendars: dict[uuid.UUID, BusinessCalendar | None] = {}
        for schedule_id in {case.schedule_id for case in peek if case.schedule_id is not None}:
            calendars[schedule_id] = await self.schedules.calendar(schedule_id)
        async with self.database.unit_of_work() as session:
            repository = BusinessHoursRepository(session)
            stale = await repository.stale(self.batch)
            rows = []
            for case in stale:
                if case.schedule_id is not None and case.schedule_id not in calendars:
                    continue  # named after the peek: counted at the next turn, its schedule read first
                calendar = calendars.get(case.schedule_id) if case.schedule_id is not None else None
                rows.append(
                    {
                        "b_case_id": case.case_id,
                        "b_schedule_id": case.schedule_id,
                        "b_first_reply_at": case.first_reply_at,
                        "b_solved_at": case.solved_at,
                        "b_first_reply": _between(calendar, case.created_at, case.first_reply_at),
                        "b_resolution": _between(calendar, case.created_at, case.solved_at),
                    }
                )
            await repository.counted(rows)
        return len(stale)
