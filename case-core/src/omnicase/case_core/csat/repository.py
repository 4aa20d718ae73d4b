"""Every query about CSAT, answering typed records."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import RowMapping, select
from sqlalchemy.dialects.postgresql import insert

from omnicase.case_core.csat.models import csat_opt_outs, csat_settings, csat_surveys
from omnicase.case_core.records import column_values
from omnicase.kit.repository import Repository


@dataclass(frozen=True)
class SurveyRow:
    id: uuid.UUID
    case_id: uuid.UUID
    solved_at: datetime
    due_at: datetime
    status: str  # scheduled, sent, skipped
    skip_reason: str | None = None
    sent_at: datetime | None = None
    rating: str | None = None  # good, bad
    reason: str | None = None
    comment: str | None = None
    rated_at: datetime | None = None
    used_links: tuple[str, ...] = ()  # the ratings whose one-click link was used


class SurveyValues(TypedDict, total=False):
    """Columns of a survey to set, by name, and their values (sent or skipped, the requester's answer)."""

    status: str
    skip_reason: str | None
    sent_at: datetime | None
    rating: str | None
    reason: str | None
    comment: str | None
    rated_at: datetime | None
    used_links: tuple[str, ...]


def _survey(row: RowMapping) -> SurveyRow:
    return SurveyRow(**{**row, "used_links": tuple(row["used_links"])})


@dataclass(frozen=True)
class OptOutRow:
    contact_id: uuid.UUID
    opted_out_by: str
    opted_out_at: datetime


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

    # -- surveys -------------------------------------------------------------------------

    async def schedule(self, survey: SurveyRow) -> bool:
        """Keep ``survey`` unless the case has one for this solve already; True if kept now."""
        statement = (
            insert(csat_surveys)
            .values(**column_values(survey))
            .on_conflict_do_nothing(index_elements=[csat_surveys.c.case_id, csat_surveys.c.solved_at])
            .returning(csat_surveys.c.id)
        )
        return (await self.session.execute(statement)).first() is not None

    async def claim_due(self, *, now: datetime, limit: int) -> list[SurveyRow]:
        """Scheduled surveys due by ``now``, locked (SKIP LOCKED: replicas share them), earliest first."""
        statement = (
            select(csat_surveys)
            .where(csat_surveys.c.status == "scheduled", csat_surveys.c.due_at <= now)
            .order_by(csat_surveys.c.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [_survey(row) for row in (await self.session.execute(statement)).mappings()]

    async def get(self, survey_id: uuid.UUID, *, for_update: bool = False) -> SurveyRow | None:
        statement = select(csat_surveys).where(csat_surveys.c.id == survey_id)
        if for_update:
            statement = statement.with_for_update()
        row = (await self.session.execute(statement)).mappings().one_or_none()
        return _survey(row) if row else None

    async def of_case(self, case_id: uuid.UUID) -> list[SurveyRow]:
        statement = select(csat_surveys).where(csat_surveys.c.case_id == case_id).order_by(csat_surveys.c.solved_at)
        return [_survey(row) for row in (await self.session.execute(statement)).mappings()]

    async def update(self, survey_id: uuid.UUID, changes: SurveyValues) -> SurveyRow:
        """Set the columns of ``changes``."""
        values = {name: list(value) if isinstance(value, tuple) else value for name, value in changes.items()}
        statement = csat_surveys.update().where(csat_surveys.c.id == survey_id).values(**values).returning(csat_surveys)
        return _survey((await self.session.execute(statement)).mappings().one())

    # -- opt-outs ------------------------------------------------------------------------

    async def opted_out(self, contact_id: uuid.UUID) -> OptOutRow | None:
        statement = select(csat_opt_outs).where(csat_opt_outs.c.contact_id == contact_id)
        row = (await self.session.execute(statement)).mappings().one_or_none()
        return OptOutRow(**row) if row else None

    async def opt_out(self, contact_id: uuid.UUID, *, by: str, at: datetime) -> OptOutRow:
        statement = (
            insert(csat_opt_outs)
            .values(contact_id=contact_id, opted_out_by=by, opted_out_at=at)
            .on_conflict_do_nothing(index_elements=[csat_opt_outs.c.contact_id])
        )
        await self.session.execute(statement)
        row = await self.opted_out(contact_id)
        assert row is not None
        return row

    async def opt_in(self, contact_id: uuid.UUID) -> bool:
        statement = (
            csat_opt_outs.delete().where(csat_opt_outs.c.contact_id == contact_id).returning(csat_opt_outs.c.contact_id)
        )
        return (await self.session.execute(statement)).first() is not None
