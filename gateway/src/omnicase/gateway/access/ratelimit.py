"""Rate limits per client IP and per bearer token: token buckets in this process.

Each key has a bucket of ``quota`` requests refilled evenly over ``window``
seconds, so a client may burst up to the quota and then continues at the
sustained rate. Buckets live per replica: with N replicas behind a balancer a
client gets at most N times the quota, which is the usual trade for not putting
a shared store on every request's path.

Responses carry the IETF ``RateLimit-Policy`` / ``RateLimit`` headers
(draft-ietf-httpapi-ratelimit-headers, structured-field form) naming the
policy closest to its limit; a refusal is a 429 problem with ``Retry-After``.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from omnicase.gateway.access.clientip import Network, client_ip
from omnicase.gateway.metrics import REFUSED
from omnicase.kit.errors import problem_response

# Probes and scrapes must never be throttled: a kubelet retrying /readyz is not abuse.
UNLIMITED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


@dataclass(frozen=True)
class Outcome:
    policy: str
    quota: int
    window: int
    allowed: bool
    remaining: int
    reset_seconds: int
    retry_after: int


class TokenBuckets:
    """One named policy: ``quota`` requests per ``window`` seconds for each key."""

    def __init__(
        self,
        policy: str,
        quota: int,
        window: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.policy = policy
        self.quota = quota
        self.window = window
        self.rate = quota / window
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str) -> Outcome:
        now = self.clock()
        tokens, updated = self._buckets.get(key, (float(self.quota), now))
        tokens = min(float(self.quota), tokens + (now - updated) * self.rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        if key not in self._buckets and len(self._buckets) >= self.max_keys:
            self._evict_full(now)
        self._buckets[key] = (tokens, now)
        return Outcome(
            policy=self.policy,
            quota=self.quota,
            window=self.window,
            allowed=allowed,
            remaining=int(tokens),
            reset_seconds=math.ceil((self.quota - tokens) / self.rate),
            retry_after=0 if allowed else max(1, math.ceil((1.0 - tokens) / self.rate)),
        )

    def _evict_full(self, now: float) -> None:
        """Forget keys whose bucket has refilled: they behave exactly like unknown keys."""
        full = [
            key
            for key, (tokens, updated) in self._buckets.items()
            if tokens + (now - updated) * self.rate >= self.quota
        ]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self.max_keys:
            # Still full of active keys: drop the oldest rather than grow without bound.
            for key in list(self._buckets)[: len(self._buckets) // 10 + 1]:
                del self._buckets[key]


def _bearer_key(headers: dict[bytes, bytes]) -> str | None:
    value = headers.get(b"authorization", b"").decode("latin-1")
    scheme, _, credentials = value.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    # Keyed by a digest: the limiter's memory never holds a usable token.
    return hashlib.sha256(credentials.strip().encode()).hexdigest()


class RateLimitMiddleware:
    """Pure ASGI (bodies stream untouched): IP bucket always, token bucket when a bearer is sent."""

    def __init__(
        self, app: ASGIApp, *, by_ip: TokenBuckets, by_token: TokenBuckets, trusted_proxies: tuple[Network, ...] = ()
    ) -> None:
        self.app = app
        self.by_ip = by_ip
        self.by_token = by_token
        self.trusted_proxies = trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNLIMITED_PATHS or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        client = scope.get("client")
        forwarded = headers.get(b"x-forwarded-for", b"").decode("latin-1") or None
        outcomes = [self.by_ip.take(client_ip(client[0] if client else None, forwarded, self.trusted_proxies))]
        token_key = _bearer_key(headers)
        if token_key is not None:
            outcomes.append(self.by_token.take(token_key))
        refused = [outcome for outcome in outcomes if not outcome.allowed]
        policy_header = ", ".join(f'"{o.policy}";q={o.quota};w={o.window}' for o in outcomes)
        tightest = min(refused or outcomes, key=lambda o: (o.remaining, -o.reset_seconds))
        limit_header = f'"{tightest.policy}";r={tightest.remaining};t={tightest.reset_seconds}'
        if refused:
            REFUSED.labels("rate_limited").inc()
            retry_after = max(o.retry_after for o in refused)
            response = problem_response(
                429,
                "rate-limited",
                "Too many requests",
                f"Rate limit '{tightest.policy}' exceeded; retry in {retry_after} s.",
                instance=scope["path"],
                headers={
                    "Retry-After": str(retry_after),
                    "RateLimit-Policy": policy_header,
                    "RateLimit": limit_header,
                },
            )
            await response(scope, receive, send)
            return
        extra = [(b"ratelimit-policy", policy_header.encode()), (b"ratelimit", limit_header.encode())]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
