"""The delivery worker: sends due replies through their providers, retries with backoff, reports the outcome.

Each pass leases due rows (``FOR UPDATE SKIP LOCKED``, so replicas share the work)
in one short transaction, sends outside any transaction, then records each outcome
with its ``intake.delivery_reported`` event in another.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import httpx

from omnicase.intake_web.channels import providers
from omnicase.intake_web.channels.definition import StoredChannel, parse_thread_key
from omnicase.intake_web.channels.delivery_repository import FAILED, SENT, DeliveryRepository
from omnicase.intake_web.channels.outbound import report
from omnicase.intake_web.channels.repository import ChannelRepository
from omnicase.intake_web.channels.schemas import GenericConfig, MessengerConfig, SmsConfig, WhatsAppConfig
from omnicase.intake_web.channels.secrets import ChannelSecrets
from omnicase.intake_web.metrics import DELIVERIES
from omnicase.intake_web.settings import IntakeWebSettings
from omnicase.kit.clock import utcnow
from omnicase.kit.db import Database
from omnicase.kit.events import OutboundMessageRequested
from omnicase.kit.outbox import Outbox

logger = logging.getLogger(__name__)

BATCH = 20


class DeliveryWorker:
    def __init__(
        self,
        database: Database,
        outbox: Outbox,
        http: httpx.AsyncClient,
        settings: IntakeWebSettings,
        secrets: ChannelSecrets,
    ) -> None:
        self.database = database
        self.secrets = secrets
        self.outbox = outbox
        self.http = http
        self.settings = settings

    async def run_once(self) -> int:
        """Send what is due; returns how many deliveries were attempted."""
        now = utcnow()
        lease = timedelta(seconds=self.settings.delivery_timeout_seconds * 2 + 5)
        async with self.database.unit_of_work() as session:
            rows = await DeliveryRepository(session).claim_due(now, now + lease, BATCH)
            channels: dict[Any, StoredChannel | None] = {}
            for row in rows:
                if row.channel_id not in channels:
                    found = await ChannelRepository(session).get(row.channel_id)
                    channels[row.channel_id] = (
                        StoredChannel.from_row(found, self.secrets) if found is not None else None
                    )
        outcomes = await asyncio.gather(*(self._attempt(row, channels[row.channel_id]) for row in rows))
        async with self.database.unit_of_work() as session:
            for row, outcome in zip(rows, outcomes, strict=True):
                await self._record(session, row, outcome, channels[row.channel_id])
        return len(rows)

    async def _attempt(self, row: Any, channel: StoredChannel | None) -> str | providers.DeliveryError:
        request = OutboundMessageRequested.model_validate(row.request)
        if channel is None or not channel.enabled:
            return providers.DeliveryError("the channel was removed or disabled", permanent=True)
        parsed = parse_thread_key(request.conversation_id)
        conversation = parsed[2] if parsed else ""
        out = providers.Outgoing(conversation=conversation, request=request)
        timeout = self.settings.delivery_timeout_seconds
        config = channel.config
        try:
            if isinstance(config, SmsConfig):
                return await providers.send_sms(self.http, config, out, timeout, parts_sent=row.parts_sent)
            if isinstance(config, WhatsAppConfig):
                return await providers.send_whatsapp(self.http, config, out, timeout)
            if isinstance(config, MessengerConfig):
                return await providers.send_messenger(self.http, config, out, timeout)
            assert isinstance(config, GenericConfig)
            return await providers.send_generic(self.http, config, out, timeout)
        except providers.DeliveryError as error:
            return error
        except httpx.HTTPError as error:
            return providers.DeliveryError(f"provider unreachable: {error!r}")

    async def _record(
        self, session: Any, row: Any, outcome: str | providers.DeliveryError, channel: StoredChannel | None
    ) -> None:
        deliveries = DeliveryRepository(session)
        request = OutboundMessageRequested.model_validate(row.request)
        now = utcnow()
        if channel is not None and isinstance(channel.config, SmsConfig):
            plan = providers.plan_sms(channel.config, request.text)
            await deliveries.record_sms(row.outbound_id, plan.encoding, plan.segments)
        if isinstance(outcome, str):
            DELIVERIES.labels("sent").inc()
            await deliveries.finish(row.outbound_id, SENT, now, outcome or None, None)
            await report(session, self.outbox, request, sent=True, provider_message_id=outcome)
            return
        if outcome.parts_sent:
            await deliveries.record_parts_sent(row.outbound_id, outcome.parts_sent)
        if outcome.permanent or row.attempts >= self.settings.delivery_max_attempts:
            DELIVERIES.labels("failed").inc()
            logger.warning("delivery failed", extra={"outbound_id": str(row.outbound_id), "error": str(outcome)})
            await deliveries.finish(row.outbound_id, FAILED, now, None, str(outcome))
            await report(session, self.outbox, request, sent=False, error=str(outcome))
            return
        DELIVERIES.labels("retry").inc()
        backoff = min(
            self.settings.delivery_backoff_initial_seconds * 2 ** (row.attempts - 1),
            self.settings.delivery_backoff_max_seconds,
        )
        if outcome.retry_after is not None:
            backoff = max(backoff, min(outcome.retry_after, self.settings.delivery_backoff_max_seconds))
        await deliveries.retry_at(row.outbound_id, now + timedelta(seconds=backoff), str(outcome)[:1000])
