"""What a report is about: the period in intervals of a time zone, the grouping and the filters."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from omnicase.kit.clock import utcnow
from omnicase.kit.errors import FieldError, ValidationFailed
from omnicase.reporting.metrics.schemas import Interval

MAX_PERIOD = timedelta(days=366)
DEFAULT_PERIOD = timedelta(days=30)
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
    """Whole intervals of ``interval`` in ``tz``: ``starts`` and the end of the last, as instants."""

    interval: Interval
    tz: str
    starts: list[datetime]
    end: datetime

    @property
    def start(self) -> datetime:
        return self.starts[0]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ZoneInfo("UTC"))


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


def bounds(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    """[since, until) as UTC-aware instants (until now, since 30 days before, by default); 422 naming
    the field for a period that is reversed or longer than 366 days."""
    until = _aware(until) if until else utcnow()
    since = _aware(since) if since else until - DEFAULT_PERIOD
    errors: list[FieldError] = []
    if since >= until:
        errors.append(FieldError(field="query.since", message="must be before until", code="period_order"))
    elif until - since > MAX_PERIOD:
        errors.append(FieldError(field="query.since", message="the period is at most 366 days", code="too_long"))
    if errors:
        raise ValidationFailed("The reporting period is not valid.", errors=errors)
    return since, until


def period(since: datetime | None, until: datetime | None, interval: Interval, tz: str) -> Period:
    """The intervals covering [since, until) in ``tz`` (local midnights, Monday weeks, first days of
    months; a DST day is 23 or 25 hours); 422 naming the field for a period that is reversed, too long
    or cut into too many intervals."""
    since, until = bounds(since, until)
    zone = ZoneInfo(tz)
    local = _truncate(since.astimezone(zone), interval)
    starts: list[datetime] = []
    while True:
        instant = local.replace(tzinfo=zone).astimezone(ZoneInfo("UTC"))
        if instant >= until:
            break
        starts.append(instant)
        local = _next(local, interval)
    if len(starts) > MAX_INTERVALS:
        raise ValidationFailed(
            "Too many intervals.",
            errors=[FieldError(field="query.interval", message=f"at most {MAX_INTERVALS} intervals", code="too_many")],
        )
    return Period(interval, tz, starts, local.replace(tzinfo=zone).astimezone(ZoneInfo("UTC")))
