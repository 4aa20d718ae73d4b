"""Trigger conditions: each operator on the case's fields and on this update's changes; all/any."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jsonschema_rs
import pytest
from pydantic import ValidationError

from omnicase.case_core.triggers.conditions import holds, matches
from omnicase.case_core.triggers.schemas import Condition, Conditions

CASE: dict[str, Any] = {
    "status": "open",
    "priority": "urgent",
    "channel": "email",
    "group_id": None,
    "tags": ["vip", "billing"],
    "subject": "Refund for order 42",
    "requester_id": "0192f0c4-3c1e-7d1a-9a51-5a4b7c3d2e10",
}
CHANGES = {"priority": {"old": "normal", "new": "urgent"}}


def check(field: str, operator: str, value: Any = None, *, is_new: bool = False) -> bool:
    return holds(Condition(field=field, operator=operator, value=value), CASE, CHANGES, is_new=is_new)


@pytest.mark.parametrize(
    ("field", "operator", "value", "expected"),
    [
        ("status", "is", "open", True),
        ("status", "is", "pending", False),
        ("status", "is_not", "pending", True),
        ("channel", "in", ["email", "web"], True),
        ("channel", "not_in", ["email"], False),
        ("requester_id", "is", "0192f0c4-3c1e-7d1a-9a51-5a4b7c3d2e10", True),
        ("group_id", "blank", None, True),
        ("group_id", "present", None, False),
        ("tags", "contains", "VIP", True),
        ("tags", "not_contains", "spam", True),
        ("tags", "in", ["spam", "billing"], True),
        ("tags", "not_in", ["spam", "billing"], False),
        ("subject", "contains", "refund", True),
        ("subject", "not_contains", "refund", False),
        ("priority", "changed", None, True),
        ("status", "changed", None, False),
        ("status", "not_changed", None, True),
        ("priority", "changed_to", "urgent", True),
        ("priority", "changed_to", "high", False),
        ("priority", "changed_from", "normal", True),
        ("priority", "changed_from", "low", False),
    ],
)
def test_each_operator(field: str, operator: str, value: Any, expected: bool) -> None:
    assert check(field, operator, value) is expected


def test_update_type_tells_a_new_case_from_a_change() -> None:
    assert check("update_type", "is", "created", is_new=True)
    assert not check("update_type", "is", "created", is_new=False)
    assert check("update_type", "is_not", "created", is_new=False)


def test_all_must_hold_and_one_of_any() -> None:
    urgent = Condition(field="priority", operator="is", value="urgent")
    web = Condition(field="channel", operator="is", value="web")
    vip = Condition(field="tags", operator="contains", value="vip")
    assert matches(Conditions(all=[urgent], any=[web, vip]), CASE, CHANGES, is_new=False)
    assert not matches(Conditions(all=[urgent, web]), CASE, CHANGES, is_new=False)
    assert not matches(Conditions(all=[urgent], any=[web]), CASE, CHANGES, is_new=False)
    assert matches(Conditions(any=[web, vip]), CASE, CHANGES, is_new=False)


@pytest.mark.parametrize(
    "condition",
    [
        {"field": "status", "operator": "is"},
        {"field": "status", "operator": "in", "value": "open"},
        {"field": "status", "operator": "contains", "value": "op"},
        {"field": "update_type", "operator": "is", "value": "deleted"},
        {"field": "update_type", "operator": "changed"},
        {"field": "mood", "operator": "is", "value": "happy"},
    ],
)
def test_conditions_that_cannot_mean_anything_are_refused(condition: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Condition.model_validate(condition)


def test_a_rule_without_conditions_is_refused() -> None:
    with pytest.raises(ValidationError):
        Conditions()


BERLIN_OFFICE = {
    "timezone": "Europe/Berlin",
    "days": ["mon", "tue", "wed", "thu", "fri"],
    "start": "09:00",
    "end": "17:00",
}


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (datetime(2026, 1, 5, 8, 0, tzinfo=UTC), True),  # Monday 09:00 in Berlin (UTC+1)
        (datetime(2026, 1, 5, 7, 59, tzinfo=UTC), False),  # 08:59 there
        (datetime(2026, 1, 5, 16, 0, tzinfo=UTC), False),  # 17:00 there: closed
        (datetime(2026, 7, 6, 14, 30, tzinfo=UTC), True),  # summer time, 16:30 there
        (datetime(2026, 7, 6, 15, 30, tzinfo=UTC), False),  # 17:30 there
        (datetime(2026, 1, 10, 12, 0, tzinfo=UTC), False),  # Saturday
    ],
)
def test_time_of_day_in_business_hours_follows_the_time_zone(moment: datetime, inside: bool) -> None:
    within = Condition(field="time", operator="within", value=BERLIN_OFFICE)
    outside = Condition(field="time", operator="outside", value=BERLIN_OFFICE)
    assert holds(within, CASE, CHANGES, is_new=False, now=moment) is inside
    assert holds(outside, CASE, CHANGES, is_new=False, now=moment) is not inside


@pytest.mark.parametrize(
    "value",
    [
        {**BERLIN_OFFICE, "timezone": "Mars/Olympus"},
        {**BERLIN_OFFICE, "days": []},
        {**BERLIN_OFFICE, "days": ["someday"]},
        {**BERLIN_OFFICE, "start": "09:00+01:00"},
        {**BERLIN_OFFICE, "end": "24:00"},
        {**BERLIN_OFFICE, "end": "5pm"},
        "office hours",
    ],
)
def test_impossible_hours_are_refused(value: Any) -> None:
    with pytest.raises(ValidationError):
        Condition.model_validate({"field": "time", "operator": "within", "value": value})
    with pytest.raises(ValidationError):
        Condition.model_validate({"field": "status", "operator": "within", "value": BERLIN_OFFICE})


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (datetime(2026, 1, 5, 21, 0, tzinfo=UTC), True),  # Monday 22:00 in Berlin
        (datetime(2026, 1, 6, 4, 59, tzinfo=UTC), True),  # Tuesday 05:59: Monday's night still
        (datetime(2026, 1, 6, 5, 0, tzinfo=UTC), False),  # Tuesday 06:00: over
        (datetime(2026, 1, 5, 4, 0, tzinfo=UTC), False),  # Monday 05:00: Sunday's night, not one of the days
        (datetime(2026, 1, 6, 21, 0, tzinfo=UTC), False),  # Tuesday 22:00: not one of the days
    ],
)
def test_hours_whose_end_comes_before_their_start_run_past_midnight(moment: datetime, inside: bool) -> None:
    night = Condition(
        field="time", operator="within", value={**BERLIN_OFFICE, "days": ["mon"], "start": "22:00", "end": "06:00"}
    )
    assert holds(night, CASE, CHANGES, is_new=False, now=moment) is inside


def test_hours_whose_end_is_their_start_are_the_whole_day_from_it() -> None:
    day = Condition(
        field="time", operator="within", value={**BERLIN_OFFICE, "days": ["mon"], "start": "00:00", "end": "00:00"}
    )
    assert holds(day, CASE, CHANGES, is_new=False, now=datetime(2026, 1, 5, 22, 59, tzinfo=UTC))  # Monday 23:59
    assert not holds(day, CASE, CHANGES, is_new=False, now=datetime(2026, 1, 5, 23, 0, tzinfo=UTC))  # Tuesday 00:00


def test_every_condition_the_schema_allows_is_one_the_model_takes_and_the_reverse() -> None:
    schema = Conditions.model_json_schema()
    validator = jsonschema_rs.validator_for(schema)
    office = {**BERLIN_OFFICE, "start": "22:00", "end": "06:00"}
    for condition, valid in [
        ({"field": "time", "operator": "within", "value": office}, True),
        ({"field": "time", "operator": "is", "value": office}, False),
        ({"field": "priority", "operator": "outside", "value": office}, False),
        ({"field": "time", "operator": "within"}, False),
        ({"field": "priority", "operator": "changed_to", "value": "urgent"}, True),
        ({"field": "priority", "operator": "changed_to"}, False),
        ({"field": "priority", "operator": "is", "value": None}, False),
        ({"field": "priority", "operator": "in", "value": "urgent"}, False),
        ({"field": "priority", "operator": "in", "value": ["urgent", "high"]}, True),
        ({"field": "priority", "operator": "contains", "value": "x"}, False),
        ({"field": "subject", "operator": "contains", "value": "refund"}, True),
        ({"field": "update_type", "operator": "changed", "value": "created"}, False),
        ({"field": "update_type", "operator": "is", "value": "deleted"}, False),
        ({"field": "update_type", "operator": "is", "value": "created"}, True),
        ({"field": "status", "operator": "changed"}, True),
    ]:
        body = {"all": [condition]}
        assert validator.is_valid(body) is valid, condition
        try:
            Conditions.model_validate(body)
        except ValidationError:
            assert not valid, condition
        else:
            assert valid, condition
    assert not validator.is_valid({"all": [], "any": []})
    with pytest.raises(ValidationError):
        Conditions.model_validate({"all": [], "any": []})
