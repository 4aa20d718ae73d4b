"""Every query of agents' voice status (columns of routing's ``agents`` table)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update

from omnicase.kit.repository import Repository
from omnicase.routing.engine import VoiceStatus
from omnicase.routing.models import agents


@dataclass(frozen=True)
class VoiceRow:
    user_id: uuid.UUID
    status: VoiceStatus
    chosen: VoiceStatus
    call_id: uuid.UUID | None
    wrap_up_seconds: int
    wrap_up_until: datetime | None


_COLUMNS = (
    agents.c.user_id,
    agents.c.voice_status,
    agents.c.voice_chosen,
    agents.c.voice_call_id,
    agents.c.voice_wrap_up_seconds,
    agents.c.voice_wrap_up_until,
)


def _row(row: Row[*tuple[Any, ...]]) -> VoiceRow:
    return VoiceRow(
        user_id=row.user_id,
        status=VoiceStatus(row.voice_status),
        chosen=VoiceStatus(row.voice_chosen),
        call_id=row.voice_call_id,
        wrap_up_seconds=row.voice_wrap_up_seconds,
        wrap_up_until=row.voice_wrap_up_until,
    )


class VoiceRepository(Repository):
    async def lock(self, user_id: uuid.UUID) -> VoiceRow | None:
        """The agent's voice status, their row locked (None: not a routing agent)."""
        found = (
            await self.session.execute(select(*_COLUMNS).where(agents.c.user_id == user_id).with_for_update())
        ).first()
        return None if found is None else _row(found)

    async def lock_on_call(self, call_id: uuid.UUID) -> list[VoiceRow]:
        """The agents busy on this call (one, or none when nobody is), their rows locked."""
        statement = (
            select(*_COLUMNS).where(agents.c.voice_call_id == call_id).order_by(agents.c.user_id).with_for_update()
        )
        return [_row(found) for found in await self.session.execute(statement)]

    async def claim_due_wrap_ups(self, now: datetime, limit: int) -> list[VoiceRow]:
        """Agents whose wrap-up is over, locked; rows another replica holds are skipped."""
        statement = (
            select(*_COLUMNS)
            .where(agents.c.voice_wrap_up_until <= now)
            .order_by(agents.c.voice_wrap_up_until)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [_row(found) for found in await self.session.execute(statement)]

    async def set(
        self,
        user_id: uuid.UUID,
        status: VoiceStatus,
        call_id: uuid.UUID | None,
        wrap_up_until: datetime | None,
        at: datetime,
        *,
        chosen: VoiceStatus | None = None,
    ) -> None:
        """Set the voice status (and, given ``chosen``, what the agent said: where a call's end returns them)."""
        await self.session.execute(
            update(agents)
            .where(agents.c.user_id == user_id)
            .values(
                voice_chosen=chosen.value if chosen is not None else agents.c.voice_chosen,
                voice_status=status.value,
                voice_call_id=call_id,
                voice_wrap_up_until=wrap_up_until,
                voice_status_changed_at=at,
                updated_at=at,
            )
        )
