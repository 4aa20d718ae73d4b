"""Webhook deliveries against a real HTTP receiver."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from omnicase.devtools.testing.servers import serve_http
from omnicase.sla_engine.scheduler.repository import ClaimedTimer
from omnicase.sla_engine.webhooks import WebhookFailed, WebhookSender

pytestmark = pytest.mark.asyncio


def delivery(url: str) -> ClaimedTimer:
    moment = datetime(2026, 3, 2, 9, tzinfo=UTC)
    return ClaimedTimer(
        id=1,
        key="webhook:0192f1c0-0000-7000-8000-000000000001",
        kind="webhook",
        case_id=None,
        due_at=moment,
        lease=moment,
        attempts=1,
        payload={"url": url, "body": {"event": "sla.threshold_reached", "level": "breach"}},
    )


async def test_a_delivery_posts_the_body_with_its_delivery_id_and_fails_loudly_on_errors() -> None:
    received: list[tuple[dict[str, Any], str, str]] = []
    answers = [503, 204]

    async def hook(request: Request) -> Response:
        received.append(
            (await request.json(), request.headers["x-omnicase-delivery"], request.headers["x-omnicase-event"])
        )
        return Response(status_code=answers.pop(0))

    async with (
        serve_http(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as base,
        httpx.AsyncClient(timeout=5) as client,
    ):
        sender = WebhookSender(client)
        with pytest.raises(WebhookFailed, match="503"):
            await sender.deliver(delivery(f"{base}/hook"))
        await sender.deliver(delivery(f"{base}/hook"))
        with pytest.raises(WebhookFailed, match="404"):
            await sender.deliver(delivery(f"{base}/elsewhere"))
    body = {"event": "sla.threshold_reached", "level": "breach"}
    same = (body, "0192f1c0-0000-7000-8000-000000000001", "sla.threshold_reached")
    assert received == [same, same]


async def test_an_unreachable_receiver_is_a_failed_delivery() -> None:
    async with httpx.AsyncClient(timeout=2) as client:
        with pytest.raises(WebhookFailed):
            await WebhookSender(client).deliver(delivery("http://127.0.0.1:9/hook"))
