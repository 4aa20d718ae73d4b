"""Business-hours schedules as the API shows them."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from omnicase.kit.inputs import StrictInput, TimeZoneName
from omnicase.sla_engine.business_hours.calendar import (
    BusinessCalendar,
    HolidayRange,
    WeeklyInterval,
)

# A time of day on the 24-hour clock; an interval may end at 24:00 (midnight), never start there.
# [0-9], not \d, which takes other scripts' digits in Python's reading (schemathesis generates by it).
StartTime = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", examples=["09:00"])]
ClockTime = Annotated[str, Field(pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$", examples=["09:00", "24:00"])]


class Weekday(StrEnum):
    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"

    @property
    def number(self) -> int:
        return list(Weekday).index(self)


def parse_clock(value: str) -> time | None:
    """``HH:MM`` as a time; ``24:00`` (end of day) as ``None``."""
    if value == "24:00":
        return None
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


class Interval(StrictInput):
    """Working time from ``start`` on ``day``. An ``end`` at or before ``start`` runs past midnight
    into the next day (``22:00`` to ``06:00`` a night shift; equal times the 24 hours from ``start``), and
    intervals that overlap are one stretch of working time: every pair of times means something, so
    the schema needs no rule relating them."""

    day: Weekday
    start: StartTime
    end: ClockTime = Field(description="Exclusive; `24:00` for midnight; at or before `start`: the next day.")

    def weekly(self) -> list[WeeklyInterval]:
        """This interval as the calendar's pieces, each within one weekday."""
        day, start, end = self.day.number, parse_clock(self.start) or time(0), parse_clock(self.end)
        if end is None or end > start:
            return [WeeklyInterval(day, start, end)]
        after_midnight = [WeeklyInterval((day + 1) % 7, time(0), end)] if end > time(0) else []
        return [WeeklyInterval(day, start, None), *after_midnight]


class HolidayCreate(StrictInput):
    name: str = Field(min_length=1, max_length=200, examples=["Christmas"])
    start_date: date = Field(examples=["2026-12-24"])
    end_date: date | None = Field(
        default=None, description="Inclusive; omit for a single day.", examples=["2026-12-26"]
    )


class Holiday(HolidayCreate):
    id: uuid.UUID
    end_date: date


class ScheduleCreate(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Berlin office",
                    "time_zone": "Europe/Berlin",
                    "intervals": [{"day": "monday", "start": "09:00", "end": "17:00"}],
                    "holidays": [{"name": "Christmas", "start_date": "2026-12-24", "end_date": "2026-12-26"}],
                }
            ]
        }
    )

    name: str = Field(min_length=1, max_length=200)
    time_zone: TimeZoneName = Field(description="IANA time zone name.")
    intervals: list[Interval] = Field(min_length=1, max_length=100)
    holidays: list[HolidayCreate] = Field(default_factory=list, max_length=1000)


class Schedule(BaseModel):
    id: uuid.UUID
    name: str
    time_zone: str
    intervals: list[Interval]
    holidays: list[Holiday]
    created_at: datetime
    updated_at: datetime

    def calendar(self) -> BusinessCalendar:
        return BusinessCalendar.build(
            self.time_zone,
            [piece for interval in self.intervals for piece in interval.weekly()],
            [HolidayRange(h.start_date, h.end_date) for h in self.holidays],
        )

    page_name: ClassVar[str] = "ScheduleList"
