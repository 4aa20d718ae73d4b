"""A form definition's schema says the rules definition_errors checks that a schema can say."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest

from omnicase.intake_web.forms.schemas import FormField, FormIn

FIELD = jsonschema_rs.validator_for(FormField.model_json_schema())
FORM = jsonschema_rs.validator_for(FormIn.model_json_schema())
SELECT_OPTIONS = [{"value": "a"}]


@pytest.mark.parametrize(
    ("field", "valid"),
    [
        ({"key": "email"}, True),
        ({"key": "shoe_size"}, False),  # not a standard field: kind custom
        ({"key": "shoe_size", "kind": "custom"}, True),
        ({"key": "email", "type": "text"}, False),  # a standard field's type is fixed
        ({"key": "email", "type": "email"}, True),
        ({"key": "plan", "kind": "custom", "type": "select"}, False),  # a select needs options
        ({"key": "plan", "kind": "custom", "type": "select", "options": SELECT_OPTIONS}, True),
        ({"key": "plan", "kind": "custom", "options": SELECT_OPTIONS}, False),  # options for a select only
        ({"key": "scan", "kind": "custom", "type": "file"}, False),  # files come by 'attachments'
        ({"key": "email", "options": SELECT_OPTIONS}, False),
    ],
)
def test_a_fields_kind_key_type_and_options_fit_together(field: dict[str, Any], valid: bool) -> None:
    assert FIELD.is_valid({**field, "labels": {"en": "Label"}}) is valid


@pytest.mark.parametrize(
    ("locale", "labels", "valid"),
    [
        (None, {"en": "Email"}, True),
        (None, {"fr": "Courriel"}, False),
        ("ko", {"en": "Email"}, False),
        ("ko", {"ko": "이메일"}, True),
    ],
)
def test_each_field_has_a_label_in_a_shipped_default_locale(
    locale: str | None, labels: dict[str, str], valid: bool
) -> None:
    form: dict[str, Any] = {"name": "x", "thank_you_url": "https://example.com/thanks"}
    form["fields"] = [{"key": "email", "labels": labels}]
    if locale is not None:
        form["default_locale"] = locale
    assert FORM.is_valid(form) is valid
