"""Business-time arithmetic: pure functions over a weekly schedule in one IANA time zone.

sla-engine owns schedules (its API, ``/api/v1/business-hours``); the arithmetic is here so
every service that counts working time (sla-engine's clocks, reporting's business-hours
durations) counts it the same way. :func:`calendar_of` builds a calendar from a schedule as
the API shows it.

A :class:`BusinessCalendar` knows, for every local date, the working intervals of that
day (weekly pattern minus holidays). Intervals are wall-clock times converted to UTC
instants day by day, so a DST change simply makes that day's interval an hour longer
or shorter in real time: business time is always *real* elapsed seconds spent inside
working intervals. Wall times that do not exist (the spring-forward gap) resolve with
``fold=0``, i.e. as if the old offset still applied, which lands just after the gap.

:class:`CalendarTime` is the same interface for round-the-clock targets, so milestone
code never branches on the mode.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# A schedule whose next working second is further away than this is treated as broken
# (e.g. every day a holiday): arithmetic stops instead of looping forever.
MAX_SEARCH_DAYS = 3 * 366


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class UnknownTimeZone(ValueError):
    pass


class NoBusinessTime(ValueError):
    """The schedule has no working time within the search horizon."""


def load_zone(name: str) -> ZoneInfo:
    """The IANA zone called ``name``; :class:`UnknownTimeZone` if there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise UnknownTimeZone(f"unknown time zone {name!r}; use an IANA name such as 'Europe/Berlin'") from error


class TimeMeasure(Protocol):
    """How a milestone's clock turns real instants into counted seconds and back."""

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant at which ``seconds`` of counted time have passed since ``start``."""
        ...

    def between(self, start: datetime, end: datetime) -> float:
        """Counted seconds in ``[start, end)``; 0 when ``end <= start``."""
        ...


class CalendarTime:
    """Every second counts."""

    def add(self, start: datetime, seconds: float) -> datetime:
        return start + timedelta(seconds=seconds)

    def between(self, start: datetime, end: datetime) -> float:
        return max(0.0, (end - start).total_seconds())


@dataclass(frozen=True)
class WeeklyInterval:
    """Working time on one weekday (0 = Monday), ``start < end``; ``end`` may be 24:00 (``None``).
    Pieces of one day may overlap: the day's working time is their union."""

    weekday: int
    start: time
    end: time | None  # None: until midnight


@dataclass(frozen=True)
class HolidayRange:
    first: date
    last: date  # inclusive

    def covers(self, day: date) -> bool:
        return self.first <= day <= self.last


@dataclass(frozen=True)
class BusinessCalendar:
    zone: ZoneInfo
    intervals: Sequence[WeeklyInterval]
    holidays: Sequence[HolidayRange] = field(default_factory=tuple)

    @classmethod
    def build(
        cls, time_zone: str, intervals: Iterable[WeeklyInterval], holidays: Iterable[HolidayRange] = ()
    ) -> BusinessCalendar:
        return cls(load_zone(time_zone), tuple(intervals), tuple(holidays))

    def _by_weekday(self) -> dict[int, list[WeeklyInterval]]:
        days: dict[int, list[WeeklyInterval]] = {}
        for interval in sorted(self.intervals, key=lambda item: (item.weekday, item.start)):
            days.setdefault(interval.weekday, []).append(interval)
        return days

    def is_holiday(self, day: date) -> bool:
        return any(holiday.covers(day) for holiday in self.holidays)

    def day_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """Working intervals of local date ``day`` as UTC instants, in order."""
        if self.is_holiday(day):
            return []
        result: list[tuple[datetime, datetime]] = []
        for interval in self._by_weekday().get(day.weekday(), []):
            start = datetime.combine(day, interval.start, tzinfo=self.zone).astimezone(UTC)
            if interval.end is None:
                end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone).astimezone(UTC)
            else:
                end = datetime.combine(day, interval.end, tzinfo=self.zone).astimezone(UTC)
            if end > start:
                result.append((start, end))
        # Intervals that overlap or touch are one stretch of working time (counted once).
        merged: list[tuple[datetime, datetime]] = []
        for start, end in sorted(result):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        return merged

    def _intervals_from(self, instant: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals that end after ``instant``, clipped to start no earlier than it."""
        if not self.intervals:
            raise NoBusinessTime("the schedule has no working intervals")
        # Start a day early: an interval of the previous local date can reach past midnight UTC.
        day = instant.astimezone(self.zone).date() - timedelta(days=1)
        empty_days = 0
        while True:
            found = False
            for start, end in self.day_intervals(day):
                if end <= instant:
                    continue
                found = True
                yield max(start, instant), end
            empty_days = 0 if found else empty_days + 1
            if empty_days > MAX_SEARCH_DAYS:
                raise NoBusinessTime(f"no working time within {MAX_SEARCH_DAYS} days after {instant.isoformat()}")
            day += timedelta(days=1)

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant ``seconds`` of working time after ``start`` (``start`` itself if 0 or less).

        A positive duration that ends exactly at the close of an interval returns that
        closing instant, not the next opening.
        """
        remaining = timedelta(seconds=seconds)
        if remaining <= timedelta(0):
            return start
        for interval_start, interval_end in self._intervals_from(start):
            length = interval_end - interval_start
            if remaining <= length:
                return interval_start + remaining
            remaining -= length
        raise AssertionError("unreachable: _intervals_from never ends without raising")

    def between(self, start: datetime, end: datetime) -> float:
        """Working seconds in ``[start, end)``."""
        if end <= start:
            return 0.0
        total = timedelta(0)
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        last = end.astimezone(self.zone).date() + timedelta(days=1)
        while day <= last:
            for interval_start, interval_end in self.day_intervals(day):
                lo, hi = max(interval_start, start), min(interval_end, end)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total.total_seconds()

    def is_working(self, instant: datetime) -> bool:
        day = instant.astimezone(self.zone).date()
        return any(
            start <= instant < end
            for check in (day - timedelta(days=1), day)
            for start, end in self.day_intervals(check)
        )


def parse_clock(value: str) -> time | None:
    """``HH:MM`` as a time; ``24:00`` (end of day) as ``None``."""
    if value == "24:00":
        return None
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def weekly_pieces(day: str, start: str, end: str) -> list[WeeklyInterval]:
    """A schedule's interval (weekday name, ``HH:MM`` start and end) as the calendar's pieces, each
    within one weekday: an ``end`` at or before ``start`` runs past midnight into the next day."""
    number, opens, closes = WEEKDAYS.index(day), parse_clock(start) or time(0), parse_clock(end)
    if closes is None or closes > opens:
        return [WeeklyInterval(number, opens, closes)]
    after_midnight = [WeeklyInterval((number + 1) % 7, time(0), closes)] if closes > time(0) else []
    return [WeeklyInterval(number, opens, None), *after_midnight]


def calendar_of(
    time_zone: str, intervals: Iterable[tuple[str, str, str]], holidays: Iterable[tuple[date, date]]
) -> BusinessCalendar:
    """The calendar of a schedule: its zone, its intervals as (weekday name, start, end), its holidays (first, last)."""
    return BusinessCalendar.build(
        time_zone,
        [piece for day, start, end in intervals for piece in weekly_pieces(day, start, end)],
        [HolidayRange(first, last) for first, last in holidays],
    )
