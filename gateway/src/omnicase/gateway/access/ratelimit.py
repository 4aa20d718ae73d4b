"""Rate limits per client IP and per bearer token, shared by every gateway replica.

Each policy allows ``quota`` requests per fixed ``window`` of seconds, windows aligned
to multiples of their length on the kit's clock (so every replica cuts them at the
same instants). The count of each (policy:subject, window) lives in PostgreSQL
(``gateway.rate_limit_counters``, UNLOGGED): a request costs at most one autocommit
statement, ``INSERT … ON CONFLICT DO UPDATE SET count = count + hits RETURNING count``,
for both of its keys at once, shared with the requests that arrived while the one before
was in flight (:class:`CounterRepository`), so N replicas together admit the quota, not
N times it.

When PostgreSQL does not answer within ``store_timeout`` (down, failing over, pool
exhausted) the limiter fails open to this replica's memory: the same windows counted
locally, so a replica still stops a flood at the quota while its neighbours do the
same (N times the quota at worst), and requests are never refused or held because the
counter store is away. It logs that at most once a minute and counts it in
``omnicase_gateway_rate_limit_local_total``. Refusing everything instead would turn
a database blip into an outage of routes that do not need the database.

Responses carry the IETF ``RateLimit-Policy`` / ``RateLimit`` headers
(draft-ietf-httpapi-ratelimit-headers, structured-field form) naming the
policy closest to its limit; a refusal is a 429 problem with ``Retry-After``
(the seconds until the window that refused it ends).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from omnicase.gateway.access.clientip import Network, client_ip
from omnicase.gateway.access.counters import CounterRepository
from omnicase.gateway.metrics import RATE_LIMIT_LOCAL, REFUSED
from omnicase.kit.clock import get_clock, utcnow
from omnicase.kit.errors import RateLimited, error_response
from omnicase.kit.periodic import periodic

logger = logging.getLogger(__name__)

# Probes and scrapes must never be throttled: a kubelet retrying /readyz is not abuse.
UNLIMITED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
DEGRADED_LOG_EVERY_SECONDS = 60.0


@dataclass(frozen=True)
class Policy:
    """``quota`` requests per ``window`` seconds for each subject (an IP, a token digest)."""

    name: str
    quota: int
    window: int

    def window_start(self, now: float) -> int:
        return int(now // self.window) * self.window


@dataclass(frozen=True)
class Outcome:
    policy: str
    quota: int
    window: int
    allowed: bool
    remaining: int
    reset_seconds: int
    retry_after: int


def judge(policy: Policy, count: int, window_start: int, now: float) -> Outcome:
    """The outcome of the ``count``-th request of a window (refused ones count too)."""
    allowed = count <= policy.quota
    reset = max(1, math.ceil(window_start + policy.window - now))
    return Outcome(
        policy=policy.name,
        quota=policy.quota,
        window=policy.window,
        allowed=allowed,
        remaining=max(0, policy.quota - count),
        reset_seconds=reset,
        retry_after=0 if allowed else reset,
    )


class LocalCounters:
    """The same windows counted in this process: the fallback while PostgreSQL is away."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self._counts: dict[tuple[str, int], int] = {}

    def hit(self, hits: list[tuple[str, int]]) -> dict[str, int]:
        if len(self._counts) >= self.max_keys:
            self._forget_before(min(start for _, start in hits))
        counts: dict[str, int] = {}
        for key, start in hits:
            counts[key] = self._counts[key, start] = self._counts.get((key, start), 0) + 1
        return counts

    def _forget_before(self, start: int) -> None:
        self._counts = {slot: count for slot, count in self._counts.items() if slot[1] >= start}
        if len(self._counts) >= self.max_keys:
            # Still full of this window's keys: forget the older half rather than grow without bound.
            self._counts = dict(list(self._counts.items())[len(self._counts) // 2 :])


class RateLimiter:
    """Counts each request against its policies; shared counters once :meth:`attach` ed."""

    def __init__(self, by_ip: Policy, by_token: Policy, *, store_timeout: float = 0.25) -> None:
        self.by_ip = by_ip
        self.by_token = by_token
        self.store_timeout = store_timeout
        self.counters: CounterRepository | None = None
        self.local = LocalCounters()
        self._degraded_logged_at: float | None = None

    def attach(self, counters: CounterRepository | None) -> None:
        self.counters = counters

    async def take(self, ip: str, token_key: str | None) -> list[Outcome]:
        """One request from ``ip`` (and with the bearer digested to ``token_key``): one outcome per policy."""
        now = utcnow().timestamp()
        asks = [(self.by_ip, ip)] + ([(self.by_token, token_key)] if token_key is not None else [])
        slots = [(policy, f"{policy.name}:{subject}", policy.window_start(now)) for policy, subject in asks]
        counts = await self._count([(key, start) for _, key, start in slots])
        return [judge(policy, counts[key], start, now) for policy, key, start in slots]

    async def _count(self, hits: list[tuple[str, int]]) -> dict[str, int]:
        if self.counters is not None:
            try:
                async with asyncio.timeout(self.store_timeout):
                    return await self.counters.hit(hits)
            except Exception as error:  # whatever went wrong, the request must not fail for it
                self._degraded(error)
        return self.local.hit(hits)

    def _degraded(self, error: Exception) -> None:
        RATE_LIMIT_LOCAL.inc()
        now = get_clock().monotonic()
        if self._degraded_logged_at is None or now - self._degraded_logged_at >= DEGRADED_LOG_EVERY_SECONDS:
            self._degraded_logged_at = now
            logger.warning(
                "rate-limit counters unreachable; counting in this replica only",
                extra={"error": f"{type(error).__name__}: {error}"},
            )

    async def prune(self) -> int:
        """Delete counters of windows that are over (each replica may; deletes are idempotent)."""
        if self.counters is None:
            return 0
        longest = max(self.by_ip.window, self.by_token.window)
        return await self.counters.prune(int(utcnow().timestamp()) - longest)

    async def start_pruner(self) -> Callable[[], Awaitable[None]]:
        """Start a loop pruning once per window (at least every minute); returns its stop."""
        every = float(min(60, self.by_ip.window, self.by_token.window))

        return periodic("gateway-rate-limit-prune", every, self.prune, wait_first=True).stop


def _bearer_key(headers: dict[bytes, bytes]) -> str | None:
    value = headers.get(b"authorization", b"").decode("latin-1")
    scheme, _, credentials = value.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    # Keyed by a digest: the counters never hold a usable token.
    return hashlib.sha256(credentials.strip().encode()).hexdigest()


class RateLimitMiddleware:
    """Pure ASGI (bodies stream untouched): IP policy always, token policy when a bearer is sent."""

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter, trusted_proxies: tuple[Network, ...] = ()) -> None:
        self.app = app
        self.limiter = limiter
        self.trusted_proxies = trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNLIMITED_PATHS or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        client = scope.get("client")
        forwarded = headers.get(b"x-forwarded-for", b"").decode("latin-1") or None
        ip = client_ip(client[0] if client else None, forwarded, self.trusted_proxies)
        outcomes = await self.limiter.take(ip, _bearer_key(headers))
        refused = [outcome for outcome in outcomes if not outcome.allowed]
        policy_header = ", ".join(f'"{o.policy}";q={o.quota};w={o.window}' for o in outcomes)
        tightest = min(refused or outcomes, key=lambda o: (o.remaining, -o.reset_seconds))
        limit_header = f'"{tightest.policy}";r={tightest.remaining};t={tightest.reset_seconds}'
        if refused:
            REFUSED.labels("rate_limited").inc()
            retry_after = max(o.retry_after for o in refused)
            headers = {"Retry-After": str(retry_after), "RateLimit-Policy": policy_header, "RateLimit": limit_header}
            detail = f"Rate limit '{tightest.policy}' exceeded; retry in {retry_after} s."
            response = error_response(RateLimited(detail, headers=headers), scope["path"])
            await response(scope, receive, send)
            return
        extra = [(b"ratelimit-policy", policy_header.encode()), (b"ratelimit", limit_header.encode())]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
