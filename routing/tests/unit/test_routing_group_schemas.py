"""Routing bodies' published schemas allow exactly what the service takes from a body alone (groups, rule terms)."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest
from pydantic import BaseModel, ValidationError

from omnicase.routing.agents.schemas import AgentCreate
from omnicase.routing.engine import RuleConditions
from omnicase.routing.groups.schemas import GroupCreate, GroupUpdate
from omnicase.routing.rules.schemas import RuleCreate
from omnicase.routing.skills.schemas import SkillCreate

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


@pytest.mark.parametrize(
    ("term", "valid"),
    [("refund", True), (" refund ", True), (" ", False), ("\u0085", False), ("\u00a0\u3000", False), ("\ufeff", True)],
)
def test_a_rule_term_keeps_a_character_after_trimming_in_the_schema_as_in_the_check(term: str, valid: bool) -> None:
    schema = jsonschema_rs.validator_for(RuleConditions.model_json_schema())
    assert schema.is_valid({"keywords": [term]}) is valid
    if valid:
        RuleConditions.model_validate({"keywords": [term]})
    else:
        with pytest.raises(ValidationError):
            RuleConditions.model_validate({"keywords": [term]})


@pytest.mark.parametrize(
    ("name", "valid"), [("Refunds", True), (" Tier 2 ", True), ("\r", False), ("\t\u000b \n", False)]
)
def test_a_rule_agent_or_group_name_keeps_a_character_after_trimming_in_the_schema_as_in_the_check(
    name: str, valid: bool
) -> None:
    # A name of whitespace only passed the published minLength and was a 422 (schemathesis, issue 18).
    target = "0192f0c4-3c1e-7d1a-9a51-5a4b7c3d2e11"
    cases: list[tuple[type[BaseModel], dict[str, Any]]] = [
        (RuleCreate, {"name": name, "target_group_id": target}),
        (AgentCreate, {"name": name, "user_id": target}),
        (GroupCreate, {"name": name}),
        (SkillCreate, {"name": name}),
    ]
    for model, body in cases:
        assert jsonschema_rs.validator_for(model.model_json_schema()).is_valid(body) is valid, model
        if valid:
            model.model_validate(body)
        else:
            with pytest.raises(ValidationError):
                model.model_validate(body)


def test_an_agents_queues_are_published_as_unique_as_the_service_holds_them() -> None:
    group = "0192f0c4-3c1e-7d1a-9a51-5a4b7c3d2e12"
    body = {"name": "Ada", "user_id": group, "group_ids": [group, group]}
    assert not jsonschema_rs.validator_for(AgentCreate.model_json_schema()).is_valid(body)
