"""Webhook deliveries of escalations and automations: one POST per timer of kind ``webhook``.

A non-2xx answer or a network error raises, so the scheduler retries the delivery
with backoff; the body is the same on every attempt (receivers deduplicate by
``X-Omnicase-Delivery``).
"""

from __future__ import annotations

import httpx

from omnicase.sla_engine.scheduler.repository import ClaimedTimer

USER_AGENT = "Omnicase-SLA-Engine/0.1"


class WebhookFailed(RuntimeError):
    pass


class WebhookSender:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def deliver(self, timer: ClaimedTimer) -> None:
        url = str(timer.payload["url"])
        body = timer.payload.get("body", {})
        headers = {
            "User-Agent": USER_AGENT,
            "X-Omnicase-Delivery": timer.key.removeprefix("webhook:"),
            "X-Omnicase-Event": str(body.get("event", "")),
        }
        try:
            response = await self.client.post(url, json=body, headers=headers)
        except httpx.HTTPError as error:
            raise WebhookFailed(f"POST {url} failed: {error!r}") from error
        if not response.is_success:
            raise WebhookFailed(f"POST {url} answered {response.status_code}")
