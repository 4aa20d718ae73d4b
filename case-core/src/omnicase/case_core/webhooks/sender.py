"""One HTTP attempt of one delivery: guard the address, sign, POST, classify the answer."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import httpx

from omnicase.case_core.webhooks.repository import DeliveryRow, DueDeliveryRow
from omnicase.case_core.webhooks.service import AttemptResult
from omnicase.case_core.webhooks.signing import signed_headers
from omnicase.kit import ssrf
from omnicase.kit.backoff import retry_after_seconds
from omnicase.kit.clock import get_clock

RESPONSE_EXCERPT = 1024


def body_of(delivery: DeliveryRow) -> bytes:
    return json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()


async def attempt(
    client: httpx.AsyncClient,
    delivery: DueDeliveryRow,
    allowed: Sequence[ssrf.IPNetwork],
    resolver: ssrf.Resolver = ssrf.resolve,
) -> AttemptResult:
    clock = get_clock()
    started = clock.monotonic()

    def elapsed_ms() -> int:
        return max(0, round((clock.monotonic() - started) * 1000))

    try:
        addresses = await ssrf.guard(delivery.url, allowed, resolver)
    except ssrf.Unresolvable as error:
        return AttemptResult("retry", error=str(error), duration_ms=elapsed_ms())
    except ssrf.BlockedAddress as error:
        return AttemptResult("blocked", error=str(error), duration_ms=elapsed_ms())
    body = body_of(delivery)
    timestamp = math.floor(clock.now().timestamp())
    expires = delivery.previous_secret_expires_at
    previous = [delivery.previous_secret] if delivery.previous_secret and expires and expires > clock.now() else []
    headers = signed_headers(delivery.secret, str(delivery.id), timestamp, body, *previous)
    try:
        response = await ssrf.post_pinned(client, delivery.url, addresses, body, headers)
    except httpx.TimeoutException:
        return AttemptResult("retry", error="timed out", duration_ms=elapsed_ms())
    except httpx.HTTPError as error:
        return AttemptResult("retry", error=f"{type(error).__name__}: {error}", duration_ms=elapsed_ms())
    status = response.status_code
    excerpt = response.text[:RESPONSE_EXCERPT]
    if 200 <= status < 300:
        return AttemptResult("succeeded", status_code=status, response_body=excerpt, duration_ms=elapsed_ms())
    if status == 410:
        return AttemptResult(
            "gone", status_code=status, error="410 Gone", response_body=excerpt, duration_ms=elapsed_ms()
        )
    retry_after = (
        retry_after_seconds(response.headers.get("retry-after"), clock.now()) if status in (429, 503) else None
    )
    return AttemptResult(
        "retry",
        status_code=status,
        error=f"HTTP {status}",
        response_body=excerpt,
        duration_ms=elapsed_ms(),
        retry_after=retry_after,
    )
