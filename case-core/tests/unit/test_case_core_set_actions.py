from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest

from omnicase.case_core.triggers.schemas import SetField
from omnicase.case_core.triggers.service import check_set_values
from omnicase.kit.errors import ValidationFailed

ACTION_SCHEMA = jsonschema_rs.validator_for(SetField.model_json_schema())


@pytest.mark.parametrize(
    ("field", "value", "valid"),
    [
        ("status", "pending", True),
        ("status", None, False),
        ("status", "asleep", False),
        ("priority", "urgent", True),
        ("priority", 3, False),
        ("type", None, True),
        ("type", [{}, [True, "", None]], False),
        ("group_id", "0192f0c4-3c1e-7d1a-9a51-5a4b7c3d2e10", True),
        ("group_id", [], False),
        ("assignee_id", {"a": None}, False),
        ("brand", "example", True),
        ("brand", 131072, False),
        ("brand", "x" * 101, False),
    ],
)
def test_a_set_action_the_schema_allows_is_one_the_service_takes_and_the_reverse(
    field: str, value: Any, valid: bool
) -> None:
    action = {"type": "set", "field": field, "value": value}
    assert ACTION_SCHEMA.is_valid(action) is valid
    if valid:
        check_set_values([SetField.model_validate(action)], "body.actions")
        return
    with pytest.raises(ValidationFailed) as refused:
        check_set_values([SetField.model_validate(action)], "body.actions")
    assert [error.field for error in refused.value.errors or []] == ["body.actions.0.value"]
