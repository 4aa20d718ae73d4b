"""The product's own customer-facing words, one TOML file per locale beside this module.

``en.toml``, ``ko.toml``, ``zh.toml``… each hold every text of that language by section:
``form`` (a web form's own words), ``form_messages`` (what a visitor reads when a field needs
attention), ``help_center`` (the public help center's own words), ``csat_page`` and
``csat_errors`` (the satisfaction survey's page and its form's messages), ``csat_email`` (the
survey email's built-in texts), ``auto_response`` (an acknowledgement's own words), ``widget``
(the chat widget's), ``form_pages`` (what a browser reads when a form is not sent). Adding a
locale is adding its file: nothing lists the locales. Every shipped file has every key English
has (a test holds them to it); a key a file lacks would be English's. Files are read once, on
first use, and kept for the process.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection
from functools import cache
from importlib.resources import files

FALLBACK = "en"


@cache
def catalog() -> dict[str, dict[str, dict[str, str]]]:
    """Locale (lower case, the file's name) -> section -> key -> text, as the files shipped."""
    return {
        entry.name.removesuffix(".toml").lower(): tomllib.loads(entry.read_text(encoding="utf-8"))
        for entry in files(__name__).iterdir()
        if entry.name.endswith(".toml")
    }


def shipped() -> frozenset[str]:
    """The locales the product has words in."""
    return frozenset(catalog())


def text(section: str, key: str, locale: str) -> str:
    """The text for ``locale`` (``zh-CN``), else its base language (``zh``), else English.

    A section or key English lacks is a programming error: ``KeyError``.
    """
    texts = catalog()
    wanted = locale.lower()
    for candidate in (wanted, wanted.split("-")[0]):
        found = texts.get(candidate, {}).get(section, {}).get(key)
        if found is not None:
            return found
    return texts[FALLBACK][section][key]


def section(name: str, locale: str) -> dict[str, str]:
    """Every text of section ``name`` for ``locale``: English's, each replaced by the base language's
    and then the locale's own where they have it."""
    texts = catalog()
    wanted = locale.lower()
    merged = dict(texts[FALLBACK][name])
    for candidate in dict.fromkeys((wanted.split("-")[0], wanted)):
        merged.update(texts.get(candidate, {}).get(name, {}))
    return merged


def speaking(name: str, locale: str) -> str:
    """The locale section ``name`` is shown in for ``locale``: itself, its base language or English
    (the page's ``lang``)."""
    texts = catalog()
    wanted = locale.lower()
    return next((found for found in (wanted, wanted.split("-")[0]) if name in texts.get(found, {})), FALLBACK)


def preferred(accept_language: str, offered: Collection[str], default: str) -> str:
    """The visitor's most preferred of the ``offered`` locales (lower case) by an ``Accept-Language``
    header, a tag's base language standing for it (``de-AT`` takes ``de``); else ``default``."""
    ranked: list[tuple[float, str]] = []
    for position, part in enumerate(accept_language.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        ranked.append((-weight + position * 1e-6, tag.strip().lower()))
    for _, tag in sorted(ranked):
        for candidate in (tag, tag.split("-")[0]):
            if candidate in offered:
                return candidate
    return default
