"""What the expert finder asks other services, through their APIs (never their tables).

routing: every agent with their skills, presence and load (``GET /api/v1/agents``). knowledge:
articles matching the case's text (``GET /api/v1/kb/search``) and who wrote them
(``GET /api/v1/kb/articles/{id}``). Each call is signed as the service ``collaboration``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from omnicase.kit.identity import service_identity_headers
from omnicase.kit.pagination import next_page_query

PAGE = 200
MAX_AGENTS = 2000


class PeerUnavailable(Exception):
    """The peer could not answer now."""


@dataclass(frozen=True)
class AgentSkill:
    name: str
    level: int


@dataclass(frozen=True)
class AgentProfile:
    user_id: uuid.UUID
    name: str
    presence: str
    free_capacity: int
    active_cases: int
    capacity: int
    skills: tuple[AgentSkill, ...]


@dataclass(frozen=True)
class ArticleHit:
    article_id: uuid.UUID
    title: str
    score: float
    author: str


class Peers:
    def __init__(self, routing_url: str, knowledge_url: str, secret: str, *, timeout_seconds: float = 5.0) -> None:
        self.routing_url = routing_url.rstrip("/")
        self.knowledge_url = knowledge_url.rstrip("/")
        self.secret = secret
        self.timeout_seconds = timeout_seconds
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout_seconds, trust_env=False)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _get(self, url: str, scopes: frozenset[str], params: dict[str, Any] | None = None) -> Any:
        headers = service_identity_headers(self.secret, "collaboration", scopes)
        try:
            response = await self.client.get(url, params=params, headers=headers)
        except httpx.HTTPError as error:
            raise PeerUnavailable(f"{url} is unreachable ({type(error).__name__})") from error
        if not response.is_success:
            raise PeerUnavailable(f"{url} answered {response.status_code}")
        return response.json()

    async def agents(self) -> list[AgentProfile]:
        found: list[AgentProfile] = []
        after: dict[str, str] | None = {}
        while after is not None and len(found) < MAX_AGENTS:
            page = await self._get(
                f"{self.routing_url}/api/v1/agents", frozenset({"routing:read"}), {"limit": PAGE, **after}
            )
            found += [
                AgentProfile(
                    user_id=uuid.UUID(item["user_id"]),
                    name=item["name"],
                    presence=item["presence"]["status"],
                    free_capacity=item["free_capacity"],
                    active_cases=item["active_cases"],
                    capacity=item["capacity"],
                    skills=tuple(AgentSkill(skill["name"], skill["level"]) for skill in item["skills"]),
                )
                for item in page["items"]
            ]
            after = next_page_query(page)
        return found

    async def agent_groups(self, user_id: uuid.UUID) -> frozenset[uuid.UUID]:
        """The groups the agent belongs to in routing (none when routing has no such agent)."""
        headers = service_identity_headers(self.secret, "collaboration", frozenset({"routing:read"}))
        url = f"{self.routing_url}/api/v1/agents/{user_id}"
        try:
            response = await self.client.get(url, headers=headers)
        except httpx.HTTPError as error:
            raise PeerUnavailable(f"{url} is unreachable ({type(error).__name__})") from error
        if response.status_code == 404:
            return frozenset()
        if not response.is_success:
            raise PeerUnavailable(f"{url} answered {response.status_code}")
        return frozenset(uuid.UUID(group) for group in response.json()["group_ids"])

    async def agent_email(self, user_id: uuid.UUID) -> str | None:
        """The agent's email address as routing knows it (None: routing has none)."""
        agent = await self._get(f"{self.routing_url}/api/v1/agents/{user_id}", frozenset({"routing:read"}))
        email = agent.get("email")
        return email if isinstance(email, str) and email else None

    async def articles(self, text: str, limit: int = 10) -> list[ArticleHit]:
        scopes = frozenset({"knowledge:read"})
        page = await self._get(f"{self.knowledge_url}/api/v1/kb/search", scopes, {"q": text[:500], "limit": limit})
        hits: list[ArticleHit] = []
        for item in page["items"]:
            article = await self._get(f"{self.knowledge_url}/api/v1/kb/articles/{item['article_id']}", scopes)
            hits.append(
                ArticleHit(uuid.UUID(item["article_id"]), item["title"], float(item["score"]), article["created_by"])
            )
        return hits
