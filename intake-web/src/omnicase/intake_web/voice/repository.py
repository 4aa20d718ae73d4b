"""Every query on the ``voice_channels`` and ``voice_calls`` tables."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, case, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from omnicase.intake_web.channels.repository import ChannelRepository
from omnicase.intake_web.models import inbound_messages, voice_calls, voice_channels
from omnicase.kit.db import any_of
from omnicase.kit.repository import Repository

# A call's status after which later callbacks (a retried ringing) no longer change it.
FINAL_STATUSES = ("completed", "busy", "failed", "no-answer", "canceled")


class VoiceChannelRepository(ChannelRepository):
    table = voice_channels


@dataclass(frozen=True)
class CallChange:
    """A call record as one webhook left it, and the status it had before (None: the webhook created it)."""

    id: uuid.UUID
    previous_status: str | None
    direction: str
    from_number: str
    to_number: str
    status: str
    duration_seconds: int | None
    answered_by: uuid.UUID | None
    answered_at: datetime | None
    started_at: datetime
    ended_at: datetime | None
    case_id: uuid.UUID | None

    @property
    def ended_now(self) -> bool:
        """This webhook is the one that ended the call (a final status stays final)."""
        return self.status in FINAL_STATUSES and self.previous_status not in FINAL_STATUSES


# The case a call is logged on: the one it was placed from (outbound), or the one case-core confirmed its
# first message opened or joined (inbound).
_CASE_ID = func.coalesce(voice_calls.c.case_id, inbound_messages.c.case_id).label("case_id")


class VoiceCallRepository(Repository):
    async def record(self, values: dict[str, Any]) -> CallChange:
        """The call as one callback tells it: created by the first, brought up to date by each later one
        (a final status stays final; what a callback does not carry is kept). The row is locked before it
        is read, so of two webhooks of one call arriving together, one sees the other's change."""
        current = voice_calls.c
        created = await self.session.scalar(
            pg_insert(voice_calls).values(**values).on_conflict_do_nothing().returning(current.id)
        )
        previous: str | None = None
        if created is None:
            match = (current.channel_id == values["channel_id"]) & (current.call_sid == values["call_sid"])
            previous = await self.session.scalar(select(current.status).where(match).with_for_update())
            final = current.status.in_(FINAL_STATUSES)
            await self.session.execute(
                update(voice_calls)
                .where(match)
                .values(
                    status=case((final, current.status), else_=values["status"]),
                    duration_seconds=func.coalesce(values["duration_seconds"], current.duration_seconds),
                    recording_url=func.coalesce(values["recording_url"], current.recording_url),
                    transcription=func.coalesce(values["transcription"], current.transcription),
                    answered_by=func.coalesce(current.answered_by, values["answered_by"]),
                    answered_at=func.coalesce(current.answered_at, values["answered_at"]),
                    ended_at=func.coalesce(current.ended_at, values["ended_at"]),
                    updated_at=values["updated_at"],
                )
            )
        row = await self.find(values["channel_id"], values["call_sid"])
        assert row is not None, "the call was written above"
        return CallChange(previous_status=previous, **row._mapping)

    async def find(self, channel_id: uuid.UUID, call_sid: str) -> Row[Any] | None:
        """The call as it stands, with the case it is logged on once case-core confirmed it."""
        current = voice_calls.c
        query: Select[Any] = (
            select(
                current.id,
                current.direction,
                current.from_number,
                current.to_number,
                current.status,
                current.duration_seconds,
                current.answered_by,
                current.answered_at,
                current.started_at,
                current.ended_at,
                _CASE_ID,
            )
            .outerjoin(inbound_messages, inbound_messages.c.id == current.intake_id)
            .where(current.channel_id == channel_id, current.call_sid == call_sid)
        )
        row: Row[Any] | None = (await self.session.execute(query)).one_or_none()
        return row

    def _calls(self) -> Select[Any]:
        return select(*(column for column in voice_calls.c if column.name != "case_id"), _CASE_ID).outerjoin(
            inbound_messages, inbound_messages.c.id == voice_calls.c.intake_id
        )

    async def one(self, call_id: uuid.UUID) -> Row[Any] | None:
        row: Row[Any] | None = (await self.session.execute(self._calls().where(voice_calls.c.id == call_id))).first()
        return row

    async def page_for_channel(self, channel_id: uuid.UUID, after: uuid.UUID | None, limit: int) -> list[Row[Any]]:
        """Newest first, each with the case it is logged on."""
        query: Select[Any] = (
            self._calls().where(voice_calls.c.channel_id == channel_id).order_by(voice_calls.c.id.desc()).limit(limit)
        )
        if after is not None:
            query = query.where(voice_calls.c.id < after)
        return list((await self.session.execute(query)).all())

    async def request_callback(self, call_id: uuid.UUID, now: datetime) -> bool:
        """The call's caller asks to be called back; False when they had already (a retry, a second way)."""
        current = voice_calls.c
        requested = await self.session.scalar(
            update(voice_calls)
            .where(current.id == call_id, current.callback_requested_at.is_(None))
            .values(callback_requested_at=now)
            .returning(current.id)
        )
        return requested is not None

    async def note_callback_tagged(self, call_ids: list[uuid.UUID]) -> None:
        await self.session.execute(
            update(voice_calls).where(any_of(voice_calls.c.id, call_ids)).values(callback_tagged=True)
        )

    async def callbacks_to_tag(self, intake_ids: list[uuid.UUID]) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """(call id, intake id) of the calls opened by these messages whose callback was asked for before their
        case was known. Every such call is locked first, so a callback asked for at the same moment is either
        seen here or sees the case (its webhook locks the call before reading it)."""
        current = voice_calls.c
        rows = await self.session.execute(
            select(current.id, current.intake_id, current.callback_requested_at, current.callback_tagged)
            .where(any_of(current.intake_id, intake_ids))
            .with_for_update()
        )
        return [
            (row.id, row.intake_id) for row in rows if row.callback_requested_at is not None and not row.callback_tagged
        ]

    async def complete_callbacks(self, case_id: uuid.UUID, by_call: uuid.UUID, now: datetime) -> list[uuid.UUID]:
        """The open callbacks of calls logged on ``case_id``, completed by the call ``by_call``; their ids."""
        current = voice_calls.c
        rows = await self.session.execute(
            update(voice_calls)
            .where(
                current.callback_requested_at.is_not(None),
                current.callback_completed_at.is_(None),
                current.intake_id == inbound_messages.c.id,
                inbound_messages.c.case_id == case_id,
            )
            .values(callback_completed_at=now, callback_completed_by=by_call)
            .returning(current.id)
        )
        return list(rows.scalars())
