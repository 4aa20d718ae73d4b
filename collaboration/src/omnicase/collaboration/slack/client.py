"""The Slack Web API client: every call through the kit's SSRF guard, classified for the kit's retry policy.

A call is a JSON POST to ``{api_url}/{method}`` with the bot token as bearer. Slack answers 200
with ``{"ok": true, …}`` or ``{"ok": false, "error": "…"}``; 429 with ``Retry-After`` when rate
limited. Errors that another try may cure (rate limits, 5xx, timeouts, connections, Slack's own
``internal_error``/``fatal_error``/``ratelimited``) retry; the rest (a bad token, a channel the bot
is not in) do not.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

import httpx

from omnicase.kit import ssrf
from omnicase.kit.backoff import retry_after_seconds
from omnicase.kit.clock import utcnow

_RETRYABLE_ERRORS = frozenset(
    {"internal_error", "fatal_error", "ratelimited", "service_unavailable", "request_timeout"}
)


@dataclass(frozen=True)
class SlackAnswer:
    outcome: Literal["ok", "retry", "failed"]
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    retry_after: float | None = None


class SlackClient:
    def __init__(
        self,
        allowed: Sequence[ssrf.IPNetwork],
        *,
        timeout_seconds: float = 10.0,
        resolver: ssrf.Resolver = ssrf.resolve,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.allowed = list(allowed)
        self.resolver = resolver
        self.timeout_seconds = timeout_seconds
        self._client = client

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout_seconds, trust_env=False)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def call(
        self, api_url: str, token: str, method: str, payload: dict[str, Any], *, form: bool = False
    ) -> SlackAnswer:
        """``form``: the arguments form-encoded, for the methods that take no JSON body (users.lookupByEmail)."""
        url = f"{api_url.rstrip('/')}/{method}"
        try:
            addresses = await ssrf.guard(url, self.allowed, self.resolver)
        except ssrf.Unresolvable as error:
            return SlackAnswer("retry", error=str(error))
        except ssrf.BlockedAddress as error:
            return SlackAnswer("failed", error=str(error))
        if form:
            body = urlencode(payload).encode()
            kind = "application/x-www-form-urlencoded"
        else:
            body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
            kind = "application/json; charset=utf-8"
        headers = {"authorization": f"Bearer {token}", "content-type": kind}
        try:
            response = await ssrf.post_pinned(self.client, url, addresses, body, headers)
        except httpx.TimeoutException:
            return SlackAnswer("retry", error="timed out")
        except httpx.HTTPError as error:
            return SlackAnswer("retry", error=f"{type(error).__name__}: {error}")
        if response.status_code == 429 or response.status_code >= 500:
            wait = retry_after_seconds(response.headers.get("retry-after"), utcnow())
            return SlackAnswer("retry", error=f"HTTP {response.status_code}", retry_after=wait)
        try:
            answer = response.json()
        except ValueError:
            return SlackAnswer("failed", error=f"HTTP {response.status_code}: not JSON")
        if not isinstance(answer, dict):
            return SlackAnswer("failed", error="not a JSON object")
        if answer.get("ok") is True:
            return SlackAnswer("ok", result=answer)
        reason = str(answer.get("error") or f"HTTP {response.status_code}")
        return SlackAnswer("retry" if reason in _RETRYABLE_ERRORS else "failed", error=reason)
