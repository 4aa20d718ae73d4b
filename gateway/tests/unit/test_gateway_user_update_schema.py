"""A user change's schema refuses exactly the links the body alone breaks (the stored user decides the rest: a 409)."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest

from omnicase.gateway.identity.schemas import UserUpdate

UPDATE = jsonschema_rs.validator_for(UserUpdate.model_json_schema())
SOME_ID = "0190f5d2-7c1e-7a3b-9d4e-2f6a8b0c1d2e"


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        ({"contact_id": SOME_ID}, True),  # whether it fits is the stored role's to say
        ({"role": "agent", "contact_id": SOME_ID}, False),
        ({"role": "end_user", "contact_id": SOME_ID}, True),
        ({"role": "end_user", "contact_id": None}, False),
        ({"role": "admin", "organization_id": SOME_ID}, False),
        ({"role": "admin", "agent_id": SOME_ID}, False),
        ({"role": "light_agent", "agent_id": SOME_ID}, True),
        ({"organization_cases": True, "organization_id": None}, False),
        ({"organization_cases": True}, True),
    ],
)
def test_a_change_that_names_the_role_and_a_link_is_checked_by_the_schema(body: dict[str, Any], valid: bool) -> None:
    assert UPDATE.is_valid(body) is valid
