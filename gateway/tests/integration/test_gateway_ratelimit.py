"""Rate limits through the running gateway: per IP and per token, with the standard headers."""

from __future__ import annotations

from typing import Any

import pytest

from omnicase.gateway.testing import Upstream

pytestmark = pytest.mark.asyncio


async def test_requests_beyond_the_ip_quota_get_429_with_retry_after(gateway_with: Any, upstream: Upstream) -> None:
    async with gateway_with(rate_limit_enabled=True, rate_limit_ip_requests=3, rate_limit_window_seconds=60) as gw:
        answers = [await gw.client.get("/api/v1/cases") for _ in range(4)]
        assert [a.status_code for a in answers] == [401, 401, 401, 429]
        refused = answers[-1]
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.headers["ratelimit-policy"] == '"ip";q=3;w=60'
        assert refused.headers["ratelimit"].startswith('"ip";r=0;t=')
        assert answers[0].headers["ratelimit"].startswith('"ip";r=2;')
        # Probes are never throttled.
        assert (await gw.client.get("/healthz")).status_code == 200


async def test_each_token_has_its_own_bucket(gateway_with: Any, upstream: Upstream) -> None:
    async with gateway_with(
        rate_limit_enabled=True, rate_limit_ip_requests=1000, rate_limit_token_requests=2, rate_limit_window_seconds=60
    ) as gw:
        _, first = await gw.bearer("agent")
        _, second = await gw.bearer("agent")
        statuses = [(await gw.client.get("/api/v1/cases", headers=first)).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        refused = await gw.client.get("/api/v1/cases", headers=first)
        assert "token" in refused.json()["detail"]
        assert (await gw.client.get("/api/v1/cases", headers=second)).status_code == 200


async def test_clients_behind_a_trusted_balancer_each_get_their_own_bucket(
    gateway_with: Any, upstream: Upstream
) -> None:
    async with gateway_with(rate_limit_enabled=True, rate_limit_ip_requests=1, trusted_proxies=["127.0.0.0/8"]) as gw:
        first = await gw.client.get("/healthz-not", headers={"X-Forwarded-For": "198.51.100.1"})
        second = await gw.client.get("/healthz-not", headers={"X-Forwarded-For": "198.51.100.2"})
        again = await gw.client.get("/healthz-not", headers={"X-Forwarded-For": "198.51.100.1"})
        assert [first.status_code, second.status_code, again.status_code] == [404, 404, 429]
