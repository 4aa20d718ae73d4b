"""The language of each new case and the locale of its contact, from its first message.

In order: the language its channel states (``defaults.language``, a form's locale); else the
language detected in its subject and text (:class:`omnicase.kit.languages.LanguageDetector`,
among the locales the brands support and ``CASE_CORE_DETECT_LANGUAGES``), when the detector is
sure; else the contact's locale; else the brand's default locale; else none. A stated or
detected language also becomes the contact's locale when it has none; a fallback never does.

The detector is built again (its models loaded in a worker thread) only when the brands'
languages change; detecting one message costs a fraction of a millisecond (``make bench``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.brands.repository import BrandRow
from omnicase.case_core.brands.service import BrandService
from omnicase.case_core.contacts.repository import ContactRow
from omnicase.kit.languages import LanguageDetector


@dataclass(frozen=True)
class Language:
    """A new case's ``language``, and the ``locale`` its contact gets if it has none (None: keep it)."""

    case: str | None
    contact: str | None


def base_languages(locales: Iterable[str]) -> frozenset[str]:
    """``zh-cn``, ``zh`` and ``ZH`` are one language to detect."""
    return frozenset(locale.split("-")[0].lower() for locale in locales)


class CaseLanguages:
    def __init__(self, brands: BrandService, extra: Iterable[str], min_confidence: float) -> None:
        self.brands = brands
        self.extra = base_languages(extra)
        self.min_confidence = min_confidence
        self._detector: LanguageDetector | None = None
        self._building = asyncio.Lock()

    async def detector(self, session: AsyncSession) -> LanguageDetector:
        """The detector for the brands' languages as they are now."""
        brands = await self.brands.current(session)
        wanted = self.extra | base_languages(
            locale for brand in brands.by_id.values() for locale in brand.supported_locales
        )
        if self._detector is None or self._detector.languages != wanted:
            async with self._building:
                if self._detector is None or self._detector.languages != wanted:
                    detector = LanguageDetector(wanted, min_confidence=self.min_confidence)
                    await asyncio.to_thread(detector.warm)
                    self._detector = detector
        return self._detector

    def choose(
        self,
        detector: LanguageDetector,
        *,
        stated: str | None,
        text: str,
        contact: ContactRow | None,
        brand: BrandRow | None,
    ) -> Language:
        """The case's language and the contact's new locale (see the module's docstring)."""
        sure = stated.lower() if stated else detector.detect(text).language
        if sure is not None:
            return Language(sure, sure if contact is not None and contact.locale is None else None)
        if contact is not None and contact.locale:
            return Language(contact.locale, None)
        return Language(brand.default_locale if brand is not None else None, None)
