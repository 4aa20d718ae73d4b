"""Turns case and SLA events into webhook deliveries (group ``case-core.webhooks``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.webhooks.service import WebhookService
from omnicase.kit.bus.batch import Batch


class WebhookFanOut:
    def __init__(self, service: WebhookService) -> None:
        self.service = service

    async def handle(self, session: AsyncSession, batch: Batch) -> None:
        await self.service.fan_out(session, [received.envelope for received in batch])
