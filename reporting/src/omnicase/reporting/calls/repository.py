"""The call metrics' writes: a batch's calls, one set-based upsert."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func

from omnicase.kit.db import UnnestedRows
from omnicase.kit.repository import Repository
from omnicase.reporting.models import calls


@dataclass(frozen=True)
class CallRow:
    """What a batch's events told of one call (``None``: not told)."""

    call_id: uuid.UUID
    channel_id: uuid.UUID
    direction: str
    channel: str = "voice"
    brand: str | None = None
    assignee_id: uuid.UUID | None = None
    case_id: uuid.UUID | None = None
    started_at: datetime | None = None
    answered_at: datetime | None = None
    wait_seconds: float | None = None
    ended_at: datetime | None = None
    end_status: str | None = None
    voicemail_at: datetime | None = None
    callback_at: datetime | None = None


CALL_COLUMNS = tuple(field.name for field in dataclasses.fields(CallRow))
_ROWS = UnnestedRows.of(calls, CALL_COLUMNS)
_EXCLUDED = _ROWS.insert.excluded
# A column keeps the first value it was told (events of a call come in order, so a redelivered or
# replayed one changes nothing); the case is the latest named (it is confirmed after the start).
_SAVE_CALLS = _ROWS.insert.on_conflict_do_update(
    index_elements=["call_id"],
    set_={
        name: func.coalesce(_EXCLUDED[name], calls.c[name])
        if name == "case_id"
        else func.coalesce(calls.c[name], _EXCLUDED[name])
        for name in CALL_COLUMNS
        if name != "call_id"
    },
)


class CallRepository(Repository):
    async def save(self, rows: Sequence[CallRow]) -> None:
        """Calls, each at most once in ``rows``; a known call gets the columns it did not have yet."""
        if rows:
            await self.session.execute(_SAVE_CALLS, _ROWS.parameters([dataclasses.asdict(row) for row in rows]))
