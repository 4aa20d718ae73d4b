from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest

from omnicase.case_core.contacts.schemas import ContactCreate

CREATE = jsonschema_rs.validator_for(ContactCreate.model_json_schema())


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        ({}, False),
        ({"organization_id": "01a24889-930e-7d6f-a69e-950626a95cfa"}, False),
        ({"name": ""}, False),
        ({"emails": [], "phones": [], "handles": []}, False),
        ({"name": "Ada"}, True),
        ({"emails": ["ada@example.com"]}, True),
        ({"phones": ["+44 20 7946 0958"]}, True),
    ],
)
def test_a_new_contact_has_a_name_or_an_identity_in_the_schema_as_in_the_service(
    body: dict[str, Any], valid: bool
) -> None:
    assert CREATE.is_valid(body) is valid
