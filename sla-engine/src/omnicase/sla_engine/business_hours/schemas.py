"""Business-hours schedules as the API shows them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from omnicase.kit.business_time import BusinessCalendar, WeeklyInterval, calendar_of, weekly_pieces
from omnicase.kit.inputs import StrictInput, TimeZoneName

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
        return weekly_pieces(self.day.value, self.start, self.end)


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
        return calendar_of(
            self.time_zone,
            [(interval.day.value, interval.start, interval.end) for interval in self.intervals],
            [(holiday.start_date, holiday.end_date) for holiday in self.holidays],
        )

    page_name: ClassVar[str] = "ScheduleList"
