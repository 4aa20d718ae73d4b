"""Business-hours arithmetic across weekends, holidays and DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnicase.kit.business_time import (
    BusinessCalendar,
    CalendarTime,
    HolidayRange,
    NoBusinessTime,
    UnknownTimeZone,
    WeeklyInterval,
    load_zone,
)
from omnicase.sla_engine.business_hours.schemas import Interval, Weekday

HOUR = 3600.0


def office(zone: str, start: time = time(9), end: time | None = time(17), days: range = range(5)) -> BusinessCalendar:
    return BusinessCalendar.build(zone, [WeeklyInterval(day, start, end) for day in days])


def local(zone: str, year: int, month: int, day: int, hour: int = 0) -> datetime:
    """A wall-clock time in ``zone`` as a UTC instant."""
    return datetime(year, month, day, hour, tzinfo=ZoneInfo(zone)).astimezone(UTC)


BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"


def test_adding_within_one_day_stays_in_that_day() -> None:
    calendar = office(BERLIN)
    monday_10 = local(BERLIN, 2026, 3, 2, 10)
    assert calendar.add(monday_10, 2 * HOUR) == local(BERLIN, 2026, 3, 2, 12)


def test_friday_afternoon_rolls_over_the_weekend_to_monday() -> None:
    calendar = office(BERLIN)
    friday_16 = local(BERLIN, 2026, 3, 6, 16)
    assert calendar.add(friday_16, 2 * HOUR) == local(BERLIN, 2026, 3, 9, 10)
    assert calendar.between(friday_16, local(BERLIN, 2026, 3, 9, 10)) == 2 * HOUR


def test_a_start_outside_hours_begins_counting_at_the_next_opening() -> None:
    calendar = office(NEW_YORK)
    saturday_night = local(NEW_YORK, 2026, 3, 7, 23)
    assert calendar.add(saturday_night, 1 * HOUR) == local(NEW_YORK, 2026, 3, 9, 10)


def test_duration_ending_at_closing_time_returns_the_close_not_the_next_opening() -> None:
    calendar = office(BERLIN)
    assert calendar.add(local(BERLIN, 2026, 3, 2, 9), 8 * HOUR) == local(BERLIN, 2026, 3, 2, 17)


def test_single_day_and_range_holidays_are_skipped() -> None:
    calendar = BusinessCalendar.build(
        BERLIN,
        [WeeklyInterval(day, time(9), time(17)) for day in range(5)],
        [HolidayRange(date(2026, 12, 24), date(2026, 12, 26)), HolidayRange(date(2026, 12, 28), date(2026, 12, 28))],
    )
    wednesday_23rd_16 = local(BERLIN, 2026, 12, 23, 16)
    # 1 h on the 23rd, then 24-26 holidays, 27th Sunday, 28th holiday: next opening the 29th.
    assert calendar.add(wednesday_23rd_16, 2 * HOUR) == local(BERLIN, 2026, 12, 29, 10)
    assert calendar.between(wednesday_23rd_16, local(BERLIN, 2026, 12, 29, 10)) == 2 * HOUR


def test_round_the_clock_schedule_counts_23_hours_on_spring_forward_day_in_berlin() -> None:
    calendar = office(BERLIN, time(0), None, range(7))
    day_start = local(BERLIN, 2026, 3, 29, 0)
    next_day = local(BERLIN, 2026, 3, 30, 0)
    assert calendar.between(day_start, next_day) == 23 * HOUR
    assert calendar.add(day_start, 23 * HOUR) == next_day


def test_round_the_clock_schedule_counts_25_hours_on_fall_back_day_in_new_york() -> None:
    calendar = office(NEW_YORK, time(0), None, range(7))
    day_start = local(NEW_YORK, 2026, 11, 1, 0)
    next_day = local(NEW_YORK, 2026, 11, 2, 0)
    assert calendar.between(day_start, next_day) == 25 * HOUR


def test_office_hours_keep_their_wall_clock_times_across_dst() -> None:
    calendar = office(NEW_YORK)
    # Friday before the US spring change (8 March 2026) 16:00 EST, plus 2 h → Monday 10:00 EDT.
    friday = local(NEW_YORK, 2026, 3, 6, 16)
    monday = calendar.add(friday, 2 * HOUR)
    assert monday.astimezone(ZoneInfo(NEW_YORK)).replace(tzinfo=None) == datetime(2026, 3, 9, 10)
    assert monday - friday == timedelta(days=2, hours=17)  # one real hour shorter than a normal weekend


def test_interval_inside_the_spring_forward_gap_starts_after_the_gap() -> None:
    # 02:30 does not exist on 29 March 2026 in Berlin; the 02:00-04:00 shift is one real hour long.
    calendar = office(BERLIN, time(2), time(4), range(7))
    assert calendar.between(local(BERLIN, 2026, 3, 29, 0), local(BERLIN, 2026, 3, 29, 12)) == 1 * HOUR


def test_overnight_shift_split_at_midnight_counts_continuously() -> None:
    calendar = BusinessCalendar.build(BERLIN, [WeeklyInterval(0, time(22), None), WeeklyInterval(1, time(0), time(6))])
    monday_23 = local(BERLIN, 2026, 3, 2, 23)
    assert calendar.add(monday_23, 3 * HOUR) == local(BERLIN, 2026, 3, 3, 2)


def test_an_interval_ending_before_its_start_is_a_night_into_the_next_day() -> None:
    night = Interval(day=Weekday.MONDAY, start="22:00", end="06:00")
    calendar = BusinessCalendar.build(BERLIN, night.weekly())
    assert calendar.between(local(BERLIN, 2026, 3, 2, 0), local(BERLIN, 2026, 3, 4, 0)) == 8 * HOUR
    assert calendar.add(local(BERLIN, 2026, 3, 2, 23), 3 * HOUR) == local(BERLIN, 2026, 3, 3, 2)
    whole_day = Interval(day=Weekday.FRIDAY, start="00:00", end="00:00")
    assert [(piece.weekday, piece.start, piece.end) for piece in whole_day.weekly()] == [(4, time(0), None)]
    from_nine = Interval(day=Weekday.SUNDAY, start="09:00", end="09:00").weekly()
    assert [(piece.weekday, piece.start, piece.end) for piece in from_nine] == [
        (6, time(9), None),
        (0, time(0), time(9)),
    ]


def test_overlapping_intervals_are_one_stretch_counted_once() -> None:
    intervals = [
        WeeklyInterval(0, time(9), time(13)),
        WeeklyInterval(0, time(12), time(18)),
        WeeklyInterval(0, time(9), time(10)),
    ]
    calendar = BusinessCalendar.build(BERLIN, intervals)
    assert calendar.between(local(BERLIN, 2026, 3, 2, 0), local(BERLIN, 2026, 3, 3, 0)) == 9 * HOUR
    assert calendar.add(local(BERLIN, 2026, 3, 2, 9), 9 * HOUR) == local(BERLIN, 2026, 3, 2, 18)


def test_calendar_time_counts_every_second() -> None:
    measure = CalendarTime()
    start = datetime(2026, 3, 29, 0, tzinfo=UTC)
    assert measure.add(start, 90.0) == start + timedelta(seconds=90)
    assert measure.between(start, start + timedelta(hours=5)) == 5 * HOUR
    assert measure.between(start + timedelta(hours=1), start) == 0.0


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(UnknownTimeZone, match="Mars/Olympus"):
        load_zone("Mars/Olympus")
    with pytest.raises(UnknownTimeZone):
        load_zone("../etc/passwd")


def test_schedule_without_working_time_is_an_error_not_a_hang() -> None:
    every_day_off = BusinessCalendar.build(
        BERLIN, [WeeklyInterval(0, time(9), time(17))], [HolidayRange(date(2026, 1, 1), date(2036, 1, 1))]
    )
    with pytest.raises(NoBusinessTime):
        every_day_off.add(datetime(2026, 3, 2, tzinfo=UTC), HOUR)
    with pytest.raises(NoBusinessTime):
        BusinessCalendar.build(BERLIN, []).add(datetime(2026, 3, 2, tzinfo=UTC), HOUR)


# --- properties ------------------------------------------------------------------------

ZONES = st.sampled_from([BERLIN, NEW_YORK, "Australia/Lord_Howe", "Asia/Kolkata", "UTC"])
INSTANTS = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31)).map(
    lambda moment: moment.replace(tzinfo=UTC)
)
DURATIONS = st.floats(min_value=0, max_value=200 * HOUR, allow_nan=False)
SHIFT_STARTS = st.integers(min_value=0, max_value=22)


def calendars() -> st.SearchStrategy[BusinessCalendar]:
    @st.composite
    def build(draw: st.DrawFn) -> BusinessCalendar:
        zone = draw(ZONES)
        start_hour = draw(SHIFT_STARTS)
        end_hour = draw(st.integers(min_value=start_hour + 1, max_value=24))
        days = draw(st.sets(st.integers(min_value=0, max_value=6), min_size=1))
        holiday_start = draw(st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31)))
        holiday_days = draw(st.integers(min_value=0, max_value=20))
        end = None if end_hour == 24 else time(end_hour)
        return BusinessCalendar.build(
            zone,
            [WeeklyInterval(day, time(start_hour), end) for day in days],
            [HolidayRange(holiday_start, holiday_start + timedelta(days=holiday_days))],
        )

    return build()


@settings(max_examples=150, deadline=None)
@given(calendar=calendars(), start=INSTANTS, seconds=DURATIONS)
def test_adding_then_measuring_gives_back_the_duration(
    calendar: BusinessCalendar, start: datetime, seconds: float
) -> None:
    end = calendar.add(start, seconds)
    assert end >= start
    assert calendar.between(start, end) == pytest.approx(seconds, abs=1e-5)


@settings(max_examples=150, deadline=None)
@given(calendar=calendars(), start=INSTANTS, first=DURATIONS, second=DURATIONS)
def test_adding_is_monotonic_and_composes(
    calendar: BusinessCalendar, start: datetime, first: float, second: float
) -> None:
    smaller, larger = sorted((first, second))
    assert calendar.add(start, smaller) <= calendar.add(start, larger)
    stepwise = calendar.add(calendar.add(start, first), second)
    assert abs((stepwise - calendar.add(start, first + second)).total_seconds()) < 1e-5 or (
        calendar.between(calendar.add(start, first + second), stepwise) == 0
    )


@settings(max_examples=150, deadline=None)
@given(calendar=calendars(), start=INSTANTS, middle=DURATIONS, tail=DURATIONS)
def test_measuring_is_additive_over_a_split_point(
    calendar: BusinessCalendar, start: datetime, middle: float, tail: float
) -> None:
    split = start + timedelta(seconds=middle)
    end = split + timedelta(seconds=tail)
    whole = calendar.between(start, end)
    assert whole == pytest.approx(calendar.between(start, split) + calendar.between(split, end), abs=1e-6)
    assert 0 <= whole <= (end - start).total_seconds()
