"""The consumer of ``voice.events`` that keeps the calls the call metrics read (group ``reporting-calls``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.bus.batch import Batch, BatchHandler, event_types
from omnicase.kit.events import CallAnswered, CallCallbackRequested, CallEnded, CallStarted, CallVoicemailRecorded
from omnicase.reporting.calls.service import CallReadModelService

ACCEPTS = event_types(CallStarted, CallAnswered, CallEnded, CallVoicemailRecorded, CallCallbackRequested)


def call_handler(service: CallReadModelService | None = None) -> BatchHandler:
    calls = service or CallReadModelService()

    async def handle(session: AsyncSession, batch: Batch) -> None:
        await calls.apply(session, batch)

    return handle
