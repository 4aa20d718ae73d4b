"""A group body's published schema allows exactly the overflow settings the service takes from a body alone."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest

from omnicase.routing.groups.schemas import GroupCreate, GroupUpdate

FALLBACK = "0192f0c4-3c1e-7d1a-9a51-5a4b7c3d2e10"


@pytest.mark.parametrize(
    ("body", "create", "update"),
    [
        ({}, True, True),
        ({"overflow_after_seconds": 60, "overflow_group_id": FALLBACK}, True, True),
        ({"overflow_after_seconds": 60}, False, True),  # a change may give one half: the other is stored
        ({"overflow_group_id": FALLBACK}, False, True),
        ({"overflow_after_seconds": 60, "overflow_group_id": None}, False, False),
        ({"overflow_after_seconds": None, "overflow_group_id": FALLBACK}, False, False),
        ({"overflow_after_seconds": None, "overflow_group_id": None}, True, True),
    ],
)
def test_a_wait_limit_and_a_fallback_queue_come_together(body: dict[str, Any], create: bool, update: bool) -> None:
    created = {"name": "Tier 1", **body}
    assert jsonschema_rs.validator_for(GroupCreate.model_json_schema()).is_valid(created) is create
    assert jsonschema_rs.validator_for(GroupUpdate.model_json_schema()).is_valid(body) is update
