"""The acknowledgement email a form's submitter gets: per-locale templates with ``{{placeholders}}``."""

from __future__ import annotations

import re
from collections.abc import Mapping

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
PLACEHOLDERS = frozenset({"name", "email", "subject", "case_number"})

DEFAULT_SUBJECT = "[#{{case_number}}] We received your request: {{subject}}"
DEFAULT_TEXT = (
    "Thank you for contacting us. We received your request and opened case #{{case_number}}: {{subject}}\n\n"
    "We will reply to this address. To add anything, reply to this email.\n"
)


def unknown_placeholders(template: str) -> set[str]:
    return {match.group(1) for match in PLACEHOLDER.finditer(template)} - PLACEHOLDERS


def fill(template: str, values: Mapping[str, str]) -> str:
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1), ""), template)


def pick(templates: Mapping[str, str], locale: str, default_locale: str, fallback: str) -> str:
    return templates.get(locale) or templates.get(locale.split("-")[0]) or templates.get(default_locale) or fallback
