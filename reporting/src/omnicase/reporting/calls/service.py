"""The call metrics' read model: a batch of ``voice.events`` folded into one row per call.

- ``call.started``: the call's channel, direction, brand and start;
- ``call.answered``: its answer (by the agent, ``user:<id>``, of an inbound call; by the customer
  of an outbound one) and the caller's wait;
- ``call.ended``: its end and the provider's final status;
- ``call.voicemail_recorded``: the voicemail the caller left;
- ``call.callback_requested``: the caller asked to be called back (a voicemail, or 1 on hold).

Every event names the call's channel and direction and, once case-core confirmed it, its case, so
a call first seen after its start (the service started late) still gets a row; without its start it
counts nowhere.
"""

from __future__ import annotations

import dataclasses
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.bus.batch import Batch
from omnicase.kit.events import (
    CallAnswered,
    CallCallbackRequested,
    CallEnded,
    CallStarted,
    CallVoicemailRecorded,
    call_agent,
)
from omnicase.reporting.calls.repository import CallRepository, CallRow


class CallReadModelService:
    async def apply(self, session: AsyncSession, batch: Batch) -> None:
        rows: dict[uuid.UUID, CallRow] = {}

        def told(call_id: uuid.UUID, channel_id: uuid.UUID, direction: str, **columns: object) -> None:
            row = rows.get(call_id) or CallRow(call_id=call_id, channel_id=channel_id, direction=direction)
            # The first value of a column stays (as the upsert keeps it); the case is the latest named.
            changes = {
                name: value
                for name, value in columns.items()
                if value is not None and (name == "case_id" or getattr(row, name) is None)
            }
            rows[call_id] = dataclasses.replace(row, **changes)  # type: ignore[arg-type]

        for received in batch:
            match received.data:
                case CallStarted() as started:
                    told(
                        started.call_id, started.channel_id, started.direction,
                        brand=started.brand, case_id=started.case_id, started_at=started.started_at,
                    )  # fmt: skip
                case CallAnswered() as answered:
                    told(
                        answered.call_id, answered.channel_id, answered.direction,
                        assignee_id=call_agent(answered.answered_by), case_id=answered.case_id,
                        answered_at=answered.answered_at, wait_seconds=float(answered.wait_seconds),
                    )  # fmt: skip
                case CallEnded() as ended:
                    told(
                        ended.call_id, ended.channel_id, ended.direction, case_id=ended.case_id,
                        started_at=ended.started_at, ended_at=ended.ended_at, end_status=ended.status,
                    )  # fmt: skip
                case CallVoicemailRecorded() as voicemail:
                    told(
                        voicemail.call_id, voicemail.channel_id, "inbound",
                        case_id=voicemail.case_id, voicemail_at=voicemail.recorded_at,
                    )  # fmt: skip
                case CallCallbackRequested() as callback:
                    told(
                        callback.call_id, callback.channel_id, "inbound",
                        case_id=callback.case_id, callback_at=callback.requested_at,
                    )  # fmt: skip
        await CallRepository(session).save(list(rows.values()))
