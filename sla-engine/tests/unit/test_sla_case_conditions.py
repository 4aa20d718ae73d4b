"""Policies' and automations' conditions on a case's brand and language (issue 22)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from omnicase.kit.events import CaseSnapshot, CaseStatus, Channel, Priority
from omnicase.sla_engine.rules import CaseConditions

BRAND = uuid.uuid4()
NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _case(**fields: object) -> CaseSnapshot:
    values: dict[str, object] = {
        "case_id": uuid.uuid4(),
        "number": 1,
        "subject": "订单",
        "status": CaseStatus.NEW,
        "priority": Priority.NORMAL,
        "channel": Channel.EMAIL,
        "created_at": NOW,
        "updated_at": NOW,
        "version": 1,
        **fields,
    }
    return CaseSnapshot.model_validate(values)


@pytest.mark.parametrize(
    ("conditions", "case", "holds"),
    [
        ({"brand_id": [str(BRAND)]}, {"brand_id": BRAND}, True),
        ({"brand_id": [str(BRAND)]}, {"brand_id": uuid.uuid4()}, False),
        ({"brand_id": [str(BRAND)]}, {}, False),
        ({"language": ["zh"]}, {"language": "zh"}, True),
        ({"language": ["zh"]}, {"language": "zh-cn"}, True),
        ({"language": ["zh"]}, {"language": "zhx"}, False),
        ({"language": ["zh"]}, {"language": None}, False),
        ({"language": ["ko", "zh"], "brand_id": [str(BRAND)]}, {"language": "ko", "brand_id": BRAND}, True),
    ],
)
def test_a_policy_can_hold_for_a_brand_and_a_language(
    conditions: dict[str, object], case: dict[str, object], holds: bool
) -> None:
    assert CaseConditions.model_validate(conditions).matches(_case(**case)) is holds


def test_a_language_is_a_lower_case_tag() -> None:
    with pytest.raises(ValidationError):
        CaseConditions.model_validate({"language": ["Chinese"]})
