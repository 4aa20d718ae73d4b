"""The acknowledgement email a form's submitter gets, asked of case-core with the submission.

case-core writes every auto-response from its shared templates (brand and locale
variants, escaped values, the case's reference so a reply finds the case). A form says
whether it acknowledges submissions and may bring its own subject and text per locale,
written with the form placeholders below; the submission carries the ones for the
submitter's locale, translated into the shared placeholders, in its ``metadata``; a form
with ``suggest_articles`` asks for suggested articles in that acknowledgement too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
# Form placeholder -> the shared placeholder case-core renders.
SHARED = {"name": "requester.name", "email": "requester.email", "subject": "case.subject", "case_number": "case.number"}
PLACEHOLDERS = frozenset(SHARED)


def unknown_placeholders(template: str) -> set[str]:
    return {match.group(1) for match in PLACEHOLDER.finditer(template)} - PLACEHOLDERS


def to_shared(template: str) -> str:
    return PLACEHOLDER.sub(lambda match: "{{" + SHARED[match.group(1)] + "}}", template)


def pick(templates: Mapping[str, str], locale: str, default_locale: str) -> str | None:
    return templates.get(locale) or templates.get(locale.split("-")[0]) or templates.get(default_locale)


def acknowledgement_request(
    *,
    wanted: bool,
    suggest_articles: bool,
    email: str | None,
    subjects: Mapping[str, str],
    texts: Mapping[str, str],
    locale: str,
    default_locale: str,
) -> dict[str, Any]:
    """The submission's ``metadata`` asking case-core for the acknowledgement (nothing when none is due)."""
    if not wanted or not email:
        return {}
    own = {
        part: to_shared(chosen)
        for part, templates in (("subject", subjects), ("text", texts))
        if (chosen := pick(templates, locale, default_locale))
    }
    return {
        "auto_response": True,
        **({"auto_response_template": own} if own else {}),
        **({"suggest_articles": True} if suggest_articles else {}),
    }
