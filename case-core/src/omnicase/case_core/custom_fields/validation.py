"""Typed validation of a case's custom field values against their definitions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, get_args

from omnicase.case_core.custom_fields.repository import CustomFieldRow
from omnicase.case_core.custom_fields.schemas import FieldType
from omnicase.kit.errors import NOT_FOUND_CODE, FieldError

# The code of a value its stored definition refuses is the definition's type: the body's schema
# takes any value, so it is the stored state that refuses (a 409 where nothing else is wrong).
DEFINITION_CODES = frozenset(get_args(FieldType))


def _check(definition: CustomFieldRow, value: Any) -> tuple[Any, str | None]:
    """The stored form of ``value``, or an error message."""
    kind = definition.type
    if kind == "checkbox":
        return (value, None) if isinstance(value, bool) else (None, "must be true or false")
    if kind == "number":
        if isinstance(value, int) and not isinstance(value, bool):
            return value, None
        return None, "must be a whole number"
    if kind == "decimal":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            return None, "must be a decimal number"
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return None, "must be a decimal number"
        if not number.is_finite():
            return None, "must be a finite decimal number"
        # Kept as a string: JSON floats would round 0.1 + 0.2.
        return str(number), None
    if not isinstance(value, str):
        return None, "must be a string"
    if kind == "date":
        try:
            return date.fromisoformat(value).isoformat(), None
        except ValueError:
            return None, "must be a date (YYYY-MM-DD)"
    if kind == "dropdown":
        return (value, None) if value in definition.options else (None, f"must be one of {list(definition.options)}")
    if kind == "regex":
        if definition.pattern is not None and re.fullmatch(definition.pattern, value):
            return value, None
        return None, f"must match {definition.pattern}"
    if len(value) > 10_000:
        return None, "must be at most 10000 characters"
    return value, None


def merge_custom_fields(
    definitions: dict[str, CustomFieldRow],
    current: Mapping[str, Any],
    changes: dict[str, Any],
    *,
    location: str = "body.custom_fields",
) -> tuple[dict[str, Any], list[FieldError]]:
    """``current`` with ``changes`` applied (null removes a key), and what is wrong with them."""
    result = dict(current)
    errors: list[FieldError] = []
    for key, value in changes.items():
        definition = definitions.get(key)
        if definition is None or not definition.active:
            errors.append(
                FieldError(field=f"{location}.{key}", message="no such active custom field", code=NOT_FOUND_CODE)
            )
            continue
        if value is None:
            result.pop(key, None)
            continue
        stored, message = _check(definition, value)
        if message is not None:
            errors.append(FieldError(field=f"{location}.{key}", message=message, code=definition.type))
        else:
            result[key] = stored
    return result, errors


def missing_on_solve(definitions: dict[str, CustomFieldRow], values: Mapping[str, Any]) -> list[FieldError]:
    return [
        FieldError(field=f"body.custom_fields.{key}", message="required to solve the case", code="required_on_solve")
        for key, definition in sorted(definitions.items())
        if definition.active and definition.required_on_solve and values.get(key) in (None, "")
    ]
