"""Turns case and SLA events into webhook deliveries (group ``case-core.webhooks``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.webhooks.service import WebhookService
from omnicase.kit.bus.batch import Batch, event_types
from omnicase.kit.events import (
    CaseCreated,
    CaseMessageAdded,
    CaseSatisfactionRated,
    CaseUpdated,
    SlaThresholdReached,
)

# The events a webhook can stand for (:func:`~omnicase.case_core.webhooks.service.webhook_types_of`).
ACCEPTS = event_types(CaseCreated, CaseUpdated, CaseMessageAdded, CaseSatisfactionRated, SlaThresholdReached)


class WebhookFanOut:
    def __init__(self, service: WebhookService) -> None:
        self.service = service

    async def wants(self, session: AsyncSession) -> bool:
        """Without an active subscription the events are passed over unclaimed (the common case)."""
        return bool(await self.service.active_subscriptions.current(session))

    async def handle(self, session: AsyncSession, batch: Batch) -> None:
        await self.service.fan_out(session, [received.envelope for received in batch])
