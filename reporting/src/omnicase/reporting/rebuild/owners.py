"""The owners' data the read model is rebuilt from, through their APIs (no service reads another's tables):
case-core's cases, their history and public messages, sla-engine's SLA state per case and its policies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from omnicase.kit.identity import service_identity_headers
from omnicase.kit.pagination import next_page_query

SCOPES = frozenset({"cases:read", "sla:read"})
PAGE = 200


class OwnersUnavailable(Exception):
    """case-core or sla-engine did not answer as expected; the rebuild stops and can be run again."""


class Owners:
    def __init__(self, case_core_url: str, sla_engine_url: str, secret: str, client: httpx.AsyncClient) -> None:
        self.case_core = case_core_url.rstrip("/")
        self.sla_engine = sla_engine_url.rstrip("/")
        self.secret = secret
        self.client = client

    async def _get(self, url: str, params: dict[str, Any] | None = None) -> Any | None:
        headers = service_identity_headers(self.secret, "reporting", SCOPES)
        try:
            answer = await self.client.get(url, params=params, headers=headers)
        except httpx.HTTPError as error:
            raise OwnersUnavailable(f"GET {url}: {type(error).__name__}: {error}") from error
        if answer.status_code == 404:
            return None
        if not answer.is_success:
            raise OwnersUnavailable(f"GET {url} answered {answer.status_code}: {answer.text[:200]}")
        return answer.json()

    async def _all(self, url: str, params: dict[str, Any] | None = None) -> AsyncIterator[list[dict[str, Any]]]:
        query: dict[str, Any] | None = {**(params or {}), "limit": PAGE}
        while query is not None:
            page = await self._get(url, query)
            if page is None:
                return
            yield page["items"]
            after = next_page_query(page)
            query = None if after is None else {**(params or {}), "limit": PAGE, **after}

    def case_pages(self) -> AsyncIterator[list[dict[str, Any]]]:
        """Every case, oldest first, a page at a time."""
        return self._all(f"{self.case_core}/api/v1/cases", {"sort": "created_at"})

    async def history(self, case_id: str) -> list[dict[str, Any]]:
        return [entry async for page in self._all(f"{self.case_core}/api/v1/cases/{case_id}/history") for entry in page]

    async def public_messages(self, case_id: str) -> list[dict[str, Any]]:
        url = f"{self.case_core}/api/v1/cases/{case_id}/messages"
        return [message async for page in self._all(url, {"public_only": "true"}) for message in page]

    async def case_sla(self, case_id: str) -> dict[str, Any] | None:
        answer: dict[str, Any] | None = await self._get(f"{self.sla_engine}/api/v1/sla/cases/{case_id}")
        return answer

    async def policy(self, policy_id: str) -> dict[str, Any] | None:
        answer: dict[str, Any] | None = await self._get(f"{self.sla_engine}/api/v1/sla/policies/{policy_id}")
        return answer
