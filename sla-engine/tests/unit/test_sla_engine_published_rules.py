"""The rules sla-engine's checks hold a body to that a schema can say are in the published schema."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest

from omnicase.sla_engine.automations.schemas import AutomationCreate
from omnicase.sla_engine.business_hours.schemas import ScheduleCreate
from omnicase.sla_engine.policies.schemas import PolicyCreate

SCHEDULE = "0192f1c0-0000-7000-8000-0000000000dd"


@pytest.mark.parametrize(
    ("targets", "schedule_id", "valid"),
    [
        ({"low": {"requester_wait": {"minutes": 5, "business_hours": True}}}, None, False),
        ({"low": {"requester_wait": {"minutes": 5, "business_hours": True}}}, SCHEDULE, True),
        ({"low": {"requester_wait": {"minutes": 5}, "first_reply": None}}, None, True),
    ],
)
def test_business_hours_targets_need_the_policys_schedule(
    targets: dict[str, Any], schedule_id: str | None, valid: bool
) -> None:
    body = {"name": "x", "targets": targets, **({"schedule_id": schedule_id} if schedule_id else {})}
    assert jsonschema_rs.validator_for(PolicyCreate.model_json_schema()).is_valid(body) is valid


@pytest.mark.parametrize(
    ("change", "valid"),
    [
        ({}, True),
        ({"time_condition": {"since": "pending", "hours": 3, "business_hours": True}}, False),
        ({"time_condition": {"since": "pending", "hours": 3, "business_hours": True}, "schedule_id": SCHEDULE}, True),
        ({"conditions": {"status": ["open"]}}, False),
        ({"conditions": {"status": ["pending"]}}, True),
        ({"conditions": {"status": []}}, True),
    ],
)
def test_an_automations_time_condition_fits_its_schedule_and_statuses(change: dict[str, Any], valid: bool) -> None:
    body = {
        "name": "x",
        "time_condition": {"since": "pending", "hours": 3},
        "actions": [{"type": "set_status", "status": "solved"}],
        **change,
    }
    assert jsonschema_rs.validator_for(AutomationCreate.model_json_schema()).is_valid(body) is valid


def test_an_interval_may_end_at_midnight_but_not_start_there() -> None:
    schema = jsonschema_rs.validator_for(ScheduleCreate.model_json_schema())
    body = {"name": "Office", "time_zone": "UTC", "intervals": [{"day": "monday", "start": "09:00", "end": "24:00"}]}
    assert schema.is_valid(body)
    body["intervals"] = [{"day": "monday", "start": "24:00", "end": "24:00"}]
    assert not schema.is_valid(body)
