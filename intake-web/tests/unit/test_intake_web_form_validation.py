"""Server-side validation of submitted values against the form's fields."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from omnicase.intake_web.forms.definition import StoredForm
from omnicase.intake_web.forms.schemas import FormIn
from omnicase.intake_web.forms.validation import clean


def _form(*fields: dict[str, Any]) -> StoredForm:
    spec = FormIn.model_validate({"name": "f", "thank_you_url": "https://example.com/t", "fields": list(fields)})
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return StoredForm(id=uuid.uuid4(), enabled=True, version=1, created_at=now, updated_at=now, spec=spec)


def _custom(key: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "kind": "custom", "type": kind, "labels": {"en": key}, **extra}


FORM = _form(
    {"key": "email", "required": True, "labels": {"en": "Email"}},
    {"key": "phone", "labels": {"en": "Phone"}},
    _custom("quantity", "number"),
    _custom("site", "url"),
    _custom("plan", "select", options=[{"value": "basic"}, {"value": "pro"}]),
    _custom("terms", "checkbox", required=True),
    _custom("reference", "text", max_length=5),
)


def test_good_values_are_cleaned_and_typed() -> None:
    result = clean(
        FORM,
        {
            "email": " jane@example.com ",
            "phone": "+1 (555) 123-4567",
            "quantity": "3",
            "site": "https://acme.example/shop",
            "plan": "pro",
            "terms": "yes",
            "reference": "AB12",
            "unknown": "dropped",
        },
    )
    assert result.errors == {}
    assert result.values == {
        "email": "jane@example.com",
        "phone": "+1 (555) 123-4567",
        "quantity": 3,
        "site": "https://acme.example/shop",
        "plan": "pro",
        "terms": True,
        "reference": "AB12",
    }


def test_each_bad_value_gets_its_own_message_and_code() -> None:
    result = clean(
        FORM,
        {
            "email": "jane@localhost",
            "phone": "call me",
            "quantity": "nan",
            "site": "ftp://acme",
            "plan": "enterprise",
            "reference": "ABCDEF",
        },
    )
    assert {key: code for key, (_message, code) in result.errors.items()} == {
        "email": "email",
        "phone": "phone",
        "quantity": "number",
        "site": "url",
        "plan": "choice",
        "terms": "required",
        "reference": "too_long",
    }
    assert result.errors["reference"][0] == "Use at most 5 characters."


def test_required_fields_left_blank_are_reported_and_optional_ones_left_out() -> None:
    result = clean(FORM, {"email": "   ", "terms": "on"})
    assert {key: code for key, (_m, code) in result.errors.items()} == {"email": "required"}
    assert result.values == {"terms": True}
