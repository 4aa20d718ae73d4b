"""Placeholders in texts that macros (and later triggers and auto-responses) write into a case.

``{{requester.first_name}}`` and friends: a closed list of names, so a typo is refused
when the text is saved, not discovered in a customer's inbox. Values are the
customer's own data (a name, a subject), so HTML output escapes them: a requester
called ``<script>`` is shown, never run. Variants by brand and locale pick the most
specific text: brand and locale, then locale, then brand, then the default.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from pydantic import Field, field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.cases.repository import CaseRow
from omnicase.case_core.contacts.repository import ContactRepository, ContactRow
from omnicase.kit.inputs import StrictInput

if TYPE_CHECKING:
    from omnicase.case_core.dynamic_content.service import DynamicContentService

PLACEHOLDERS = frozenset(
    {
        "requester.name",
        "requester.first_name",
        "requester.email",
        "case.number",
        "case.subject",
        "case.status",
        "case.priority",
        "agent.name",
    }
)

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+(?:\.[a-z_]+)*)\s*\}\}")
# Dynamic content (dynamic_content/): {{dc.<name>}}, whichever items exist when the text is rendered.
_DYNAMIC = re.compile(r"^dc\.[a-z][a-z_]{0,63}$")


def unknown_placeholders(template: str) -> list[str]:
    return sorted(
        {name for name in _PLACEHOLDER.findall(template) if name not in PLACEHOLDERS and not _DYNAMIC.match(name)}
    )


def render_text(template: str, values: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), ""), template)


def render_html(template: str, values: Mapping[str, str]) -> str:
    """The template's own text escaped too (it is plain text), paragraphs kept."""
    # Placeholders marked with control characters, so escaping the text leaves them whole.
    body = html.escape(_PLACEHOLDER.sub(lambda match: "\x00" + match.group(1) + "\x01", template))
    body = re.sub(r"\x00([a-z_.]+)\x01", lambda match: html.escape(values.get(match.group(1), "")), body)
    paragraphs = [p.replace("\n", "<br>") for p in body.split("\n\n") if p.strip()]
    return "".join(f"<p>{p}</p>" for p in paragraphs)


class Variant(Protocol):
    brand: str | None
    locale: str | None
    text: str


def pick_variant(default: str, variants: Sequence[Variant], brand: str | None, locale: str | None) -> str:
    """The most specific variant that fits (locale counts more than brand; ``pt-BR`` fits ``pt``)."""
    wanted = (locale or "").lower()

    def score(variant: Variant) -> int:
        if variant.brand is not None and variant.brand != brand:
            return -1
        if variant.locale is not None:
            own = variant.locale.lower()
            if own == wanted:
                return 4 + (variant.brand is not None)
            if own == wanted.split("-")[0]:
                return 2 + (variant.brand is not None)
            return -1
        return int(variant.brand is not None)

    best = max(variants, key=score, default=None)
    return best.text if best is not None and score(best) > 0 else default


def known_placeholders(text: str) -> str:
    """A validator: ``text`` uses only known placeholders."""
    unknown = unknown_placeholders(text)
    if unknown:
        known = ", ".join([*sorted(PLACEHOLDERS), "dc.<name> (dynamic content)"])
        raise ValueError(f"unknown placeholders {', '.join(unknown)}; known: {known}")
    return text


class TextVariant(StrictInput):
    """A text for one brand and/or locale (e.g. ``de``, ``pt-BR``)."""

    brand: str | None = Field(default=None, max_length=100)
    locale: str | None = Field(default=None, max_length=20)
    text: str = Field(min_length=1, max_length=20_000)

    _text = field_validator("text")(known_placeholders)


class TemplatedText(StrictInput):
    text: str = Field(min_length=1, max_length=20_000, description="With placeholders like {{requester.first_name}}.")
    variants: list[TextVariant] = Field(default_factory=list, max_length=50)

    _text = field_validator("text")(known_placeholders)


async def placeholder_values(
    session: AsyncSession,
    case: CaseRow,
    agent_name: str = "",
    *,
    content: DynamicContentService,
    requester: ContactRow | None = None,
) -> dict[str, str]:
    """Every placeholder's value for ``case`` (empty where unknown); ``requester``: its row, if held.

    Dynamic content is chosen for the requester: its locale, else the case's language, then the brand's default.
    """
    name, email = "", ""
    locale = case.language
    contacts = ContactRepository(session)
    if case.requester_id is not None:
        held = requester is not None and requester.id == case.requester_id
        contact = requester if held else await contacts.get(case.requester_id)
        name = (contact.name if contact else None) or ""
        locale = (contact.locale if contact else None) or locale
        identities = (await contacts.identities_of([case.requester_id]))[case.requester_id]
        email = next((value for kind, value in identities if kind == "email"), "")
    return {
        **await content.values(session, locale, case.brand),
        "requester.name": name,
        "requester.first_name": name.split()[0] if name.split() else "",
        "requester.email": email,
        "case.number": str(case.number),
        "case.subject": case.subject,
        "case.status": case.status,
        "case.priority": case.priority,
        "agent.name": agent_name,
    }


def render_for(template: TemplatedText, case: CaseRow, values: Mapping[str, str]) -> tuple[str, str]:
    """``(text, html)`` of the variant fitting the case's brand and language."""
    chosen = pick_variant(template.text, template.variants, case.brand, case.language)
    return render_text(chosen, values), render_html(chosen, values)
