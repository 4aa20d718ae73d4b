"""Handler of ``voice.events`` (group ``routing-voice``): an agent on a call is busy, after it back to their choice.

Its own group, apart from ``case.events``: a call's events are few, and the hot path of cases never waits
on them. A call's events share its key (the call id), so its answer comes before its end.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.bus.batch import Batch, BatchHandler, event_types
from omnicase.kit.events import CallAnswered, CallEnded, CallStarted, call_agent
from omnicase.kit.outbox import Outbox
from omnicase.routing.models import outbox as outbox_table
from omnicase.routing.settings import RoutingSettings
from omnicase.routing.voice.service import VoiceStatusService
from omnicase.routing.work.service import RoutingService

CONSUMER_GROUP = "routing-voice"
ACCEPTS = event_types(CallStarted, CallAnswered, CallEnded)


def voice_events_handler(settings: RoutingSettings) -> BatchHandler:
    outbox = Outbox(outbox_table)

    async def handle(session: AsyncSession, batch: Batch) -> None:
        voice = VoiceStatusService(RoutingService(session, outbox, settings))
        for received in batch:
            match received.data:
                case CallStarted(direction="outbound", placed_by=placed_by, call_id=call_id):
                    # The agent placing a call is on it from the first ring.
                    if (agent := call_agent(placed_by)) is not None:
                        await voice.on_call(agent, call_id, "placed")
                case CallAnswered(answered_by=answered_by, call_id=call_id):
                    if (agent := call_agent(answered_by)) is not None:
                        await voice.on_call(agent, call_id, "answered")
                case CallEnded(call_id=call_id, ended_at=ended_at):
                    await voice.call_ended(call_id, ended_at)

    return handle
