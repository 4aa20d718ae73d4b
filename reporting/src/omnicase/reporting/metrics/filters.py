"""What a report is about: the period in intervals of a time zone, the grouping and the filters."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from omnicase.kit.errors import FieldError, ValidationFailed
from omnicase.kit.inputs import report_period
from omnicase.reporting.metrics.schemas import Interval

MAX_INTERVALS = 400


@dataclass(frozen=True)
class CaseFilter:
    channel: str | None = None
    brand: str | None = None
    group_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    priority: str | None = None


@dataclass(frozen=True)
class Period:
    """Whole intervals of ``interval`` in ``tz``: ``starts`` and the end of the last, as instants;
    ``days``: the local midnights from the first start to the end, both included (a local day is
    the instants from one to the next)."""

    interval: Interval
    tz: str
    starts: list[datetime]
    end: datetime
    days: list[datetime]

    @property
    def start(self) -> datetime:
        return self.starts[0]

    @property
    def whole_hours(self) -> bool:
        """Whether every interval starts and ends on a whole UTC hour (a zone whose offset is whole
        hours all through the period), so hourly rollups add up to its intervals exactly."""
        return all(not (t.minute or t.second or t.microsecond) for t in (*self.starts, self.end))


def _next(local: datetime, interval: Interval) -> datetime:
    if interval == "day":
        return local.replace(tzinfo=None) + timedelta(days=1)
    if interval == "week":
        return local.replace(tzinfo=None) + timedelta(days=7)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return local.replace(tzinfo=None, year=year, month=month, day=1)


def _truncate(local: datetime, interval: Interval) -> datetime:
    day = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


def period(since: datetime | None, until: datetime | None, interval: Interval, tz: str) -> Period:
    """The intervals covering [since, until) in ``tz`` (local midnights, Monday weeks, first days of
    months; a DST day is 23 or 25 hours); 422 naming the field for a period that is reversed, too long
    or cut into too many intervals."""
    since, until = report_period(since, until)
    zone = ZoneInfo(tz)
    starts: list[datetime] = []
    try:
        local = _truncate(since.astimezone(zone), interval)
        while True:
            instant = local.replace(tzinfo=zone).astimezone(ZoneInfo("UTC"))
            if instant >= until:
                break
            starts.append(instant)
            local = _next(local, interval)
        end = local.replace(tzinfo=zone).astimezone(ZoneInfo("UTC"))
        days = _local_days(starts[0] if starts else end, end, zone) if interval != "day" else [*starts, end]
    except (OverflowError, ValueError):
        # A period at the calendar's very edge (year 1 or 9999) has intervals beyond it in some zones.
        raise ValidationFailed(
            "The reporting period is not valid.",
            errors=[
                FieldError(field="query.since", message="outside the calendar in this time zone", code="out_of_range")
            ],
        ) from None
    if len(starts) > MAX_INTERVALS:
        raise ValidationFailed(
            "Too many intervals.",
            errors=[FieldError(field="query.interval", message=f"at most {MAX_INTERVALS} intervals", code="too_many")],
        )
    return Period(interval, tz, starts, end, days)


def _local_days(start: datetime, end: datetime, zone: ZoneInfo) -> list[datetime]:
    days = [start]
    local = _truncate(start.astimezone(zone), "day")
    while days[-1] < end:
        local = _next(local, "day")
        days.append(local.replace(tzinfo=zone).astimezone(ZoneInfo("UTC")))
    return days
