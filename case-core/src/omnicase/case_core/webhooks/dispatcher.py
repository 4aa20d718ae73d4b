"""Delivery off the request path: a background loop that claims due deliveries and sends them.

Each round claims a batch (SKIP LOCKED, leased) in one short transaction, sends the
batch concurrently with no transaction open, then records every outcome in another.
Any number of replicas can run it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

import httpx

from omnicase.case_core.settings import CaseCoreRuntime, CaseCoreSettings
from omnicase.case_core.webhooks.repository import WebhookRepository
from omnicase.case_core.webhooks.sender import attempt
from omnicase.case_core.webhooks.service import WebhookService
from omnicase.kit.app import Stop
from omnicase.kit.clock import utcnow
from omnicase.kit.db import Database
from omnicase.kit.periodic import periodic, stop_all

logger = logging.getLogger(__name__)

PRUNE_EVERY_SECONDS = 3600.0
# Plain secrets from before sealing, or tokens under a master key that is no longer current.
RESEAL_EVERY_SECONDS = 3600.0


class WebhookDispatcher:
    def __init__(self, database: Database, service: WebhookService, client: httpx.AsyncClient) -> None:
        self.database = database
        self.service = service
        self.client = client
        self.settings: CaseCoreSettings = service.settings

    async def reseal(self) -> int:
        """One batch of secrets sealed under the current master key; how many."""
        async with self.database.unit_of_work() as session:
            return await self.service.secrets.reseal(session)

    async def run_once(self) -> int:
        """Send every delivery due now (one batch); returns how many were attempted."""
        now = utcnow()
        lease = timedelta(seconds=self.settings.webhook_timeout_seconds * 3 + 30)
        async with self.database.unit_of_work() as session:
            claimed = await WebhookRepository(session).claim_due(
                now=now, lease_until=now + lease, limit=self.settings.webhook_batch_size
            )
            allowed = await WebhookRepository(session).allowed_networks() if claimed else []
        if not claimed:
            return 0
        results = await asyncio.gather(
            *(
                attempt(self.client, self.service.secrets.signing(delivery), allowed, self.service.resolver)
                for delivery in claimed
            )
        )
        outcomes = sorted(zip(claimed, results, strict=True), key=lambda pair: str(pair[0].subscription_id))
        async with self.database.unit_of_work() as session:
            # In subscription order, so replicas recording at once lock rows in the same order.
            for delivery, result in outcomes:
                await self.service.record(session, delivery, result)
        return len(claimed)

    async def prune(self) -> int:
        """Drop the log's settled deliveries older than the retention period."""
        before = utcnow() - timedelta(days=self.settings.webhook_log_retention_days)
        async with self.database.unit_of_work() as session:
            return await WebhookRepository(session).prune(before)


def http_client(settings: CaseCoreSettings) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=settings.webhook_timeout_seconds,
        headers={"user-agent": "Omnicase-Webhooks/1"},
        # Environment proxies would send the request somewhere the SSRF guard never checked.
        trust_env=False,
    )


def dispatcher_part(service: WebhookService) -> Callable[[CaseCoreRuntime], Awaitable[Stop]]:
    """The app's background part: run the dispatcher from start-up until shutdown."""

    async def start(runtime: CaseCoreRuntime) -> Stop:
        client = http_client(service.settings)
        dispatcher = WebhookDispatcher(runtime.database, service, client)
        settings = service.settings
        return stop_all(
            [
                periodic("webhook-log-pruning", PRUNE_EVERY_SECONDS, dispatcher.prune),
                periodic("webhook-secret-reseal", RESEAL_EVERY_SECONDS, dispatcher.reseal, busy=bool),
                # A full batch means more may be due: the next round starts at once.
                periodic(
                    "webhook-dispatcher",
                    settings.webhook_poll_seconds,
                    dispatcher.run_once,
                    busy=lambda sent: sent >= settings.webhook_batch_size,
                ),
            ],
            then=client.aclose,
        )

    return start
