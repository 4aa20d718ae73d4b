"""Every query about CSAT, answering typed records."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, select
from sqlalchemy.dialects.postgresql import insert

from omnicase.case_core.csat.models import csat_settings
from omnicase.kit.repository import Repository


@dataclass(frozen=True)
class CsatSettingsRow:
    id: int
    enabled: bool
    delay_seconds: int
    reasons: tuple[str, ...]
    texts: Mapping[str, Mapping[str, Any]]  # locale -> {"subject", "text", "good", "bad"}, as saved
    updated_by: str
    updated_at: datetime


def _settings(row: RowMapping) -> CsatSettingsRow:
    return CsatSettingsRow(**{**row, "reasons": tuple(row["reasons"])})


class CsatRepository(Repository):
    async def stored_settings(self) -> CsatSettingsRow | None:
        """The one stored settings row, or None while the built-in defaults apply."""
        row = (await self.session.execute(select(csat_settings))).mappings().one_or_none()
        return _settings(row) if row else None

    async def save_settings(
        self,
        *,
        enabled: bool,
        delay_seconds: int,
        reasons: Sequence[str],
        texts: Mapping[str, Mapping[str, Any]],
        updated_by: str,
        updated_at: datetime,
    ) -> CsatSettingsRow:
        values = {
            "enabled": enabled,
            "delay_seconds": delay_seconds,
            "reasons": list(reasons),
            "texts": dict(texts),
            "updated_by": updated_by,
            "updated_at": updated_at,
        }
        statement = (
            insert(csat_settings)
            .values(id=1, **values)
            .on_conflict_do_update(index_elements=[csat_settings.c.id], set_=values)
            .returning(csat_settings)
        )
        return _settings((await self.session.execute(statement)).mappings().one())
