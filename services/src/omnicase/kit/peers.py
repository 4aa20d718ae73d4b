"""One service of the suite calling another's API, signed as the caller (never the database).

The connections are made on first use, inside the running app (never at import or in an app
factory), and closed with the app; a test hands in its own client (an ASGI transport to the
other service's real app) and keeps it.
"""

from __future__ import annotations

from typing import Any

import httpx

from omnicase.kit.identity import service_identity_headers


class PeerUnavailable(Exception):
    """The other service cannot answer now: unreachable, or an answer other than 2xx (or 404 to a GET)."""


class Peer:
    def __init__(
        self,
        name: str,
        base_url: str,
        secret: str,
        *,
        caller: str,
        scopes: frozenset[str],
        timeout_seconds: float = 5.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.name = name
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

    async def aclose(self) -> None:
        """Close the connections this peer made (a client handed in stays its owner's)."""
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    async def get(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response | None:
        """The answer to a GET of ``path``; None for a 404."""
        response = await self._send("GET", path, params=params)
        if response.status_code == 404:
            return None
        return self._successful(response, "GET", path)

    async def post(self, path: str, body: Any) -> httpx.Response:
        """The answer to a POST of ``body`` (as JSON) to ``path``."""
        return self._successful(await self._send("POST", path, json=body), "POST", path)

    async def _send(self, method: str, path: str, **options: Any) -> httpx.Response:
        headers = service_identity_headers(self.secret, self.caller, self.scopes)
        try:
            return await self.client.request(method, self.base_url + path, headers=headers, **options)
        except httpx.HTTPError as error:
            raise PeerUnavailable(f"{self.name} is unreachable ({type(error).__name__}: {error})") from error

    def _successful(self, response: httpx.Response, method: str, path: str) -> httpx.Response:
        if not response.is_success:
            raise PeerUnavailable(f"{self.name} answered {response.status_code} to {method} {path}")
        return response
