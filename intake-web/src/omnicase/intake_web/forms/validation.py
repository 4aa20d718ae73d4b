"""Server-side validation of a submission against its form: clean values or per-field messages."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from omnicase.intake_web.forms.definition import StoredForm, effective_type
from omnicase.intake_web.forms.messages import say
from omnicase.intake_web.forms.schemas import FieldType
from omnicase.kit.inputs import EMAIL_ADDRESS_PATTERN

# Stricter than browsers' type=email (which accepts "jane@localhost"): a case needs
# an address mail can reach.
EMAIL_PATTERN = re.compile(EMAIL_ADDRESS_PATTERN)
PHONE_PATTERN = re.compile(r"^\+?[0-9 ()./-]{5,32}$")
URL_PATTERN = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
DEFAULT_MAX_LENGTH = {FieldType.TEXTAREA: 32_000}
TEXT_MAX_LENGTH = 1_000
CHECKED = {"on", "yes", "true", "1"}


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    content_type: str
    data: bytes


@dataclass
class CleanSubmission:
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (message, code)


def clean(form: StoredForm, raw: dict[str, str], locale: str | None = None) -> CleanSubmission:
    locale = locale or form.spec.default_locale
    result = CleanSubmission()
    for form_field in form.spec.fields:
        kind = effective_type(form_field)
        if kind == FieldType.FILE:
            continue
        value = raw.get(form_field.key, "").strip()
        if kind == FieldType.CHECKBOX:
            checked = value.lower() in CHECKED
            if form_field.required and not checked:
                result.errors[form_field.key] = (say("checkbox", locale), "required")
            result.values[form_field.key] = checked
            continue
        if not value:
            if form_field.required:
                result.errors[form_field.key] = (say("required", locale), "required")
            continue
        limit = form_field.max_length or DEFAULT_MAX_LENGTH.get(kind, TEXT_MAX_LENGTH)
        if len(value) > limit:
            result.errors[form_field.key] = (say("too_long", locale, limit=limit), "too_long")
            continue
        problem = _check(kind, value, [option.value for option in form_field.options])
        if problem is not None:
            problem = (say(problem[1], locale), problem[1])
        if problem is not None:
            result.errors[form_field.key] = problem
            continue
        result.values[form_field.key] = _typed(kind, value)
    return result


def _typed(kind: FieldType, value: str) -> Any:
    if kind != FieldType.NUMBER:
        return value
    number = float(value)
    return int(number) if number.is_integer() else number


def _check(kind: FieldType, value: str, options: list[str]) -> tuple[str, str] | None:
    if kind == FieldType.EMAIL and not EMAIL_PATTERN.match(value):
        return ("Enter an email address like name@example.com.", "email")
    if kind == FieldType.TEL and not PHONE_PATTERN.match(value):
        return ("Enter a phone number, digits with an optional leading +.", "phone")
    if kind == FieldType.URL and not URL_PATTERN.match(value):
        return ("Enter a web address starting with http:// or https://.", "url")
    if kind == FieldType.NUMBER:
        try:
            number = float(value)
        except ValueError:
            return ("Enter a number.", "number")
        if not math.isfinite(number):
            return ("Enter a number.", "number")
    if kind == FieldType.SELECT and value not in options:
        return ("Choose one of the listed options.", "choice")
    return None
