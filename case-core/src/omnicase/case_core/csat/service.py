"""CSAT: the survey settings admins keep."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.csat.repository import CsatRepository
from omnicase.case_core.csat.schemas import BUILT_IN_TEXTS, CsatSettings, CsatSettingsInput, CsatText
from omnicase.case_core.models import config_version
from omnicase.kit.clock import utcnow
from omnicase.kit.config_version import VersionedCache

DEFAULT = CsatSettingsInput(enabled=False)


def text_for(settings: CsatSettingsInput, language: str | None) -> CsatText:
    """The texts for a case's language: the admin's, else the built-in ones; its base language; English."""
    wanted = (language or "").lower()
    for locale in (wanted, wanted.split("-")[0]):
        if locale in settings.texts:
            return settings.texts[locale]
        if locale in BUILT_IN_TEXTS:
            return BUILT_IN_TEXTS[locale]
    return settings.texts.get("en", BUILT_IN_TEXTS["en"])


class CsatService:
    def __init__(self) -> None:
        # Read for every solved case: kept per process until the settings change anywhere.
        self.settings: VersionedCache[CsatSettings] = VersionedCache(
            config_version, lambda session, _version: self.current(session), once_per_transaction=True
        )

    async def current(self, session: AsyncSession) -> CsatSettings:
        row = await CsatRepository(session).stored_settings()
        built_in_locales = sorted(BUILT_IN_TEXTS)
        if row is None:
            return CsatSettings(**DEFAULT.model_dump(), built_in=True, built_in_locales=built_in_locales)
        return CsatSettings(
            enabled=row.enabled,
            delay_seconds=row.delay_seconds,
            reasons=list(row.reasons),
            texts={locale: CsatText.model_validate(text) for locale, text in row.texts.items()},
            built_in=False,
            built_in_locales=built_in_locales,
            updated_by=row.updated_by,
            updated_at=row.updated_at,
        )

    async def save(self, session: AsyncSession, settings: CsatSettingsInput, actor: str) -> CsatSettings:
        await CsatRepository(session).save_settings(
            enabled=settings.enabled,
            delay_seconds=settings.delay_seconds,
            reasons=settings.reasons,
            texts={locale: text.model_dump(mode="json") for locale, text in settings.texts.items()},
            updated_by=actor,
            updated_at=utcnow(),
        )
        return await self.current(session)
