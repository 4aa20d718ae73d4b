"""What a visitor reads when a field needs attention, in the form's language (the kit's locale files)."""

from __future__ import annotations

from omnicase.kit import locales


def say(key: str, locale: str, **values: object) -> str:
    return locales.text("form_messages", key, locale).format(**values)
