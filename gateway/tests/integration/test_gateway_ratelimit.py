"""Rate limits through running gateways: per IP and per token, shared by every replica, with the standard headers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from omnicase.devtools.devstack.processes import free_port
from omnicase.devtools.testing.clock import ManualClock, installed_clock
from omnicase.devtools.testing.database import database_work
from omnicase.devtools.testing.servers import serve_http
from omnicase.gateway.access.counters import CounterRepository, create_counter_engine
from omnicase.gateway.access.ratelimit import Policy, RateLimiter
from omnicase.gateway.app import create_app
from omnicase.gateway.testing import Upstream, gateway_settings

pytestmark = pytest.mark.asyncio

# Ten seconds into a minute window: windows end at 09:01:00, so Retry-After is 50.
WINDOW_START = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Iterator[ManualClock]:
    with installed_clock(WINDOW_START.replace(second=10)) as manual:
        yield manual


@pytest_asyncio.fixture(autouse=True)
async def fresh_counters(database_url: str) -> AsyncIterator[None]:
    """Counters are shared through the database, like the replicas share them: start each test at zero."""
    engine = create_async_engine(database_url)
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM gateway.rate_limit_counters"))
    await engine.dispose()
    yield


async def test_requests_beyond_the_ip_quota_get_429_with_retry_after(
    gateway_with: Any, upstream: Upstream, clock: ManualClock
) -> None:
    async with gateway_with(rate_limit_enabled=True, rate_limit_ip_requests=3, rate_limit_window_seconds=60) as gw:
        answers = [await gw.client.get("/api/v1/cases") for _ in range(4)]
        assert [a.status_code for a in answers] == [401, 401, 401, 429]
        refused = answers[-1]
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["retry-after"] == "50"
        assert refused.headers["ratelimit-policy"] == '"ip";q=3;w=60'
        assert refused.headers["ratelimit"] == '"ip";r=0;t=50'
        assert [a.headers["ratelimit"] for a in answers[:3]] == ['"ip";r=2;t=50', '"ip";r=1;t=50', '"ip";r=0;t=50']
        # Probes are never throttled.
        assert (await gw.client.get("/healthz")).status_code == 200


async def test_the_next_window_admits_the_client_again(
    gateway_with: Any, upstream: Upstream, clock: ManualClock
) -> None:
    async with gateway_with(rate_limit_enabled=True, rate_limit_ip_requests=1, rate_limit_window_seconds=60) as gw:
        assert (await gw.client.get("/api/v1/cases")).status_code == 401
        assert (await gw.client.get("/api/v1/cases")).status_code == 429
        await clock.advance(50)
        again = await gw.client.get("/api/v1/cases")
        assert again.status_code == 401
        assert again.headers["ratelimit"] == '"ip";r=0;t=60'


async def test_each_token_has_its_own_quota(gateway_with: Any, upstream: Upstream, clock: ManualClock) -> None:
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


async def test_clients_behind_a_trusted_balancer_each_get_their_own_quota(
    gateway_with: Any, upstream: Upstream, clock: ManualClock
) -> None:
    async with gateway_with(rate_limit_enabled=True, rate_limit_ip_requests=1, trusted_proxies=["127.0.0.0/8"]) as gw:
        first = await gw.client.get("/healthz-not", headers={"X-Forwarded-For": "198.51.100.1"})
        second = await gw.client.get("/healthz-not", headers={"X-Forwarded-For": "198.51.100.2"})
        again = await gw.client.get("/healthz-not", headers={"X-Forwarded-For": "198.51.100.1"})
        assert [first.status_code, second.status_code, again.status_code] == [404, 404, 429]


async def test_two_gateway_servers_on_one_database_share_each_quota_and_count_it_in_their_headers(
    database_url: str, upstream: Upstream, clock: ManualClock
) -> None:
    limits = {"rate_limit_enabled": True, "rate_limit_ip_requests": 4, "rate_limit_token_requests": 3}
    settings = gateway_settings(database_url, upstream, **limits)
    async with (
        serve_http(create_app(settings)) as url_a,
        serve_http(create_app(settings)) as url_b,
        httpx.AsyncClient(base_url=url_a) as a,
        httpx.AsyncClient(base_url=url_b) as b,
    ):
        answers = [await client.get("/api/v1/cases") for client in (a, b, a, b)]
        assert [r.status_code for r in answers] == [401, 401, 401, 401]
        assert [r.headers["ratelimit"] for r in answers] == [
            '"ip";r=3;t=50',
            '"ip";r=2;t=50',
            '"ip";r=1;t=50',
            '"ip";r=0;t=50',
        ]
        # The quota is spent on both: neither replica admits a fifth request.
        for client in (b, a):
            refused = await client.get("/api/v1/cases")
            assert refused.status_code == 429
            assert refused.headers["retry-after"] == "50"

        # A token's quota too, whichever replica each request reaches.
        await clock.advance(60)
        token = {"Authorization": "Bearer not-a-real-token"}
        statuses = [(await client.get("/api/v1/cases", headers=token)).status_code for client in (a, b, a, b)]
        assert statuses == [401, 401, 401, 429]


async def test_when_postgres_does_not_answer_each_replica_still_limits_in_its_own_memory(
    clock: ManualClock,
) -> None:
    nowhere = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/omnicase"
    engine = create_counter_engine(nowhere, pool_size=1)
    limiter = RateLimiter(Policy("ip", 2, 60), Policy("token", 2, 60), store_timeout=2)
    limiter.attach(CounterRepository(engine))
    try:
        outcomes = [(await limiter.take("203.0.113.9", None))[0] for _ in range(3)]
    finally:
        await engine.dispose()
    assert [o.allowed for o in outcomes] == [True, True, False]
    assert outcomes[-1].retry_after == 50


async def test_counters_of_windows_that_are_over_are_pruned(database_url: str, clock: ManualClock) -> None:
    engine = create_counter_engine(database_url, pool_size=1)
    limiter = RateLimiter(Policy("ip", 5, 60), Policy("token", 5, 60))
    limiter.attach(CounterRepository(engine))
    try:
        await limiter.take("203.0.113.1", "t")
        await clock.advance(60)
        await limiter.take("203.0.113.2", None)
        await clock.advance(60)
        await limiter.take("203.0.113.3", None)
        # Both earlier windows are over; the current one is kept.
        assert await limiter.prune() == 3
        assert await limiter.prune() == 0
        assert (await limiter.take("203.0.113.3", None))[0].remaining == 3
    finally:
        await engine.dispose()


async def test_requests_arriving_together_are_counted_by_one_statement_each_with_its_own_count(
    database_url: str, clock: ManualClock
) -> None:
    engine = create_counter_engine(database_url, pool_size=1)
    limiter = RateLimiter(Policy("ip", 5, 60), Policy("token", 3, 60), store_timeout=5)
    repository = CounterRepository(engine)
    limiter.attach(repository)
    try:
        # An earlier request of the same window: the ones arriving together count on from it.
        await limiter.take("203.0.113.7", None)
        with database_work(engine) as work:
            together = await asyncio.gather(*(limiter.take("203.0.113.7", "t") for _ in range(8)))
        alone = await limiter.take("203.0.113.7", "t")
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT key, count FROM gateway.rate_limit_counters"))
            stored = {str(key): int(count) for key, count in rows}
    finally:
        await repository.close()
        await engine.dispose()
    assert work.executions == 1, work.statements
    by_ip = [outcomes[0] for outcomes in together]
    by_token = [outcomes[1] for outcomes in together]
    assert sorted(o.remaining for o in by_ip) == [0, 0, 0, 0, 0, 1, 2, 3]
    assert [o.allowed for o in by_ip].count(True) == 4
    assert [o.allowed for o in by_token].count(True) == 3
    # Every hit was stored: the next request is the tenth of its address and the ninth of its token.
    assert [o.allowed for o in alone] == [False, False]
    assert stored == {"ip:203.0.113.7": 10, "token:t": 9}
