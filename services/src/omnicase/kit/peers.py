"""A client of another service's REST API, made once per app and closed at its shutdown.

One service asks another (case-core asks routing for agents and knowledge for suggested
articles; knowledge asks case-core for cases) with the identity the gateway would sign for an
integration named after the caller and holding only the scopes it needs
(:func:`~omnicase.kit.identity.service_identity_headers`), over one ``httpx.AsyncClient`` made on
first use, inside the running app (never at import or in the factory), with the caller's timeout
and without proxies from the environment. Subclasses add the calls they make.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from omnicase.kit.identity import service_identity_headers
from omnicase.kit.pagination import next_page_query


class PeerUnavailable(Exception):
    """The other service cannot answer now (unreachable, or an answer other than 2xx or 404); asking
    again later may work."""


class PeerClient:
    def __init__(
        self,
        peer: str,
        base_url: str,
        secret: str,
        *,
        caller: str,
        scopes: frozenset[str],
        timeout_seconds: float = 5.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.peer = peer
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.caller = caller
        self.scopes = scopes
        self.timeout_seconds = timeout_seconds
        self._client = client
        self._owns_client = client is None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout_seconds, trust_env=False)
        return self._client

    def headers(self) -> dict[str, str]:
        """The signed identity of this call (fresh each time: a long-lived client never sends an expired one)."""
        return service_identity_headers(self.secret, self.caller, self.scopes)

    async def aclose(self) -> None:
        """Close the connections this client made (a client handed in stays its owner's)."""
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    async def get(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response | None:
        """The answer to a GET of ``path``; None for a 404, :class:`PeerUnavailable` for anything but 2xx."""
        try:
            response = await self.client.get(self.base_url + path, params=params, headers=self.headers())
        except httpx.HTTPError as error:
            raise PeerUnavailable(f"{self.peer} is unreachable ({type(error).__name__}: {error})") from error
        if response.status_code == 404:
            return None
        if not response.is_success:
            raise PeerUnavailable(f"{self.peer} answered {response.status_code} to GET {path}")
        return response

    async def pages(
        self, path: str, params: dict[str, Any] | None = None, *, limit: int = 200
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """The items of a list of the peer's, a page at a time, following its cursors (nothing for a 404)."""
        query: dict[str, Any] | None = {**(params or {}), "limit": limit}
        while query is not None:
            response = await self.get(path, query)
            if response is None:
                return
            page = response.json()
            yield page["items"]
            after = next_page_query(page)
            query = None if after is None else {**(params or {}), "limit": limit, **after}
