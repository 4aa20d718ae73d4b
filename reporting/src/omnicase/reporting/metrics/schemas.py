"""The metrics API's words: metric names, groupings, intervals, and the answer's shape."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

Interval = Literal["day", "week", "month"]
GroupBy = Literal["channel", "brand", "group", "assignee", "priority"]
Milestone = Literal["first_reply", "next_reply", "periodic_update", "resolution", "requester_wait"]


class Metric(StrEnum):
    CREATED = "created"
    SOLVED = "solved"
    REOPENED = "reopened"
    BACKLOG = "backlog"
    FIRST_REPLY_MEDIAN = "first_reply_time_median"
    FIRST_REPLY_P90 = "first_reply_time_p90"
    FIRST_REPLY_BUSINESS_MEDIAN = "first_reply_business_time_median"
    FIRST_REPLY_BUSINESS_P90 = "first_reply_business_time_p90"
    RESOLUTION_MEDIAN = "resolution_time_median"
    RESOLUTION_P90 = "resolution_time_p90"
    RESOLUTION_BUSINESS_MEDIAN = "resolution_business_time_median"
    RESOLUTION_BUSINESS_P90 = "resolution_business_time_p90"
    SLA_ATTAINMENT = "sla_attainment"
    ONE_TOUCH_RATE = "one_touch_rate"
    CSAT_GOOD_RATE = "csat_good_rate"
    CSAT_RESPONSE_RATE = "csat_response_rate"
    SWARMS_STARTED = "swarms_started"
    SWARM_MEMBERS_AVG = "swarm_members_avg"
    SWARM_PARTICIPATION_RATE = "swarm_participation_rate"
    SWARM_TO_SOLVE_MEDIAN = "swarm_to_solve_time_median"
    RESOLUTION_RATE_SWARMED = "resolution_rate_swarmed"
    RESOLUTION_RATE_NOT_SWARMED = "resolution_rate_not_swarmed"
    SAME_DAY_RESOLUTION_RATE_SWARMED = "same_day_resolution_rate_swarmed"
    SAME_DAY_RESOLUTION_RATE_NOT_SWARMED = "same_day_resolution_rate_not_swarmed"
    DEFLECTIONS = "deflections"
    DEFLECTION_RATE = "deflection_rate"
    CALLS_OFFERED = "calls_offered"
    CALLS_ANSWERED = "calls_answered"
    CALLS_ABANDONED = "calls_abandoned"
    CALLS_VOICEMAIL = "calls_voicemail"
    CALL_WAIT_MEDIAN = "call_wait_time_median"
    CALL_WAIT_P90 = "call_wait_time_p90"
    CALL_TALK_MEDIAN = "call_talk_time_median"
    CALL_TALK_P90 = "call_talk_time_p90"
    CALLS_CALLBACK = "calls_callback"


METRIC_NAMES = "|".join(metric.value for metric in Metric)
# A comma-separated list of metric names, said in the schema so a misspelt one is a 422 naming it.
METRICS_PATTERN = rf"^({METRIC_NAMES})(,({METRIC_NAMES}))*$"


def parse_metrics(value: str) -> list[Metric]:
    """The metrics of a ``metrics`` parameter the pattern admitted, in their order, each once."""
    return list(dict.fromkeys(Metric(name) for name in value.split(",")))


class Series(BaseModel):
    metric: Metric
    group: str | None = Field(
        description="The group's value (a channel, brand, id or priority); null: no group_by, or none set."
    )
    milestone: Milestone | None = Field(default=None, description="For sla_attainment: the SLA policy's metric.")
    values: list[float | None] = Field(
        description="One value per interval, in the order of `intervals`; null where there is nothing to measure "
        "(a median of no case). Counts are counts, times are seconds, rates are percentages."
    )


class MetricsReport(BaseModel):
    since: datetime = Field(description="Start of the first interval (since, widened to the interval's start in tz).")
    until: datetime = Field(description="End of the last interval.")
    interval: Interval
    tz: str
    group_by: GroupBy | None
    intervals: list[datetime] = Field(description="Start of each interval, in tz.")
    series: list[Series]
