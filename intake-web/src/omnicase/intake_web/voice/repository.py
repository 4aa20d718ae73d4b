"""Every query on the ``voice_channels`` and ``voice_calls`` tables."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row, Select, case, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from omnicase.intake_web.channels.repository import ChannelRepository
from omnicase.intake_web.models import inbound_messages, voice_calls, voice_channels
from omnicase.kit.repository import Repository

# A call's status after which later callbacks (a retried ringing) no longer change it.
FINAL_STATUSES = ("completed", "busy", "failed", "no-answer", "canceled")


class VoiceChannelRepository(ChannelRepository):
    table = voice_channels


class VoiceCallRepository(Repository):
    async def record(self, values: dict[str, Any]) -> None:
        """The call as one callback tells it: created by the first, brought up to date by each later one
        (a final status stays final; what a callback does not carry is kept)."""
        new = pg_insert(voice_calls).values(**values)
        current = voice_calls.c
        final = current.status.in_(FINAL_STATUSES)
        await self.session.execute(
            new.on_conflict_do_update(
                index_elements=[current.channel_id, current.call_sid],
                set_={
                    "status": case((final, current.status), else_=new.excluded.status),
                    "duration_seconds": func.coalesce(new.excluded.duration_seconds, current.duration_seconds),
                    "recording_url": func.coalesce(new.excluded.recording_url, current.recording_url),
                    "transcription": func.coalesce(new.excluded.transcription, current.transcription),
                    "ended_at": func.coalesce(current.ended_at, new.excluded.ended_at),
                    "updated_at": new.excluded.updated_at,
                },
            )
        )

    async def page_for_channel(self, channel_id: uuid.UUID, after: uuid.UUID | None, limit: int) -> list[Row[Any]]:
        """Newest first, each with the case its first message opened or joined."""
        query: Select[Any] = (
            select(*voice_calls.c, inbound_messages.c.case_id)
            .outerjoin(inbound_messages, inbound_messages.c.id == voice_calls.c.intake_id)
            .where(voice_calls.c.channel_id == channel_id)
            .order_by(voice_calls.c.id.desc())
            .limit(limit)
        )
        if after is not None:
            query = query.where(voice_calls.c.id < after)
        return list((await self.session.execute(query)).all())
