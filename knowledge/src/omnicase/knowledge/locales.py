"""Locales of translations and what each says about the language of a text."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

LOCALE_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$"
_LOCALE = re.compile(LOCALE_PATTERN)


def canonical_locale(value: str) -> str:
    """``ko``, ``zh-CN``, ``pt-BR``: the language in lower case, a region in upper case (a script as written)."""
    language, _, rest = value.partition("-")
    if not rest:
        return language.lower()
    return f"{language.lower()}-{rest.upper() if len(rest) == 2 else rest}"


def locale_or_none(value: str | None) -> str | None:
    """A case's language as a canonical locale when it is one (case-core keeps any string), else None."""
    return canonical_locale(value) if value and _LOCALE.fullmatch(value) else None


def language_of(locale: str) -> str:
    """The language part of ``locale``: ``zh`` for ``zh-TW``."""
    return locale.partition("-")[0].lower()


Locale = Annotated[
    str,
    StringConstraints(pattern=LOCALE_PATTERN, max_length=35),
    AfterValidator(canonical_locale),
]
