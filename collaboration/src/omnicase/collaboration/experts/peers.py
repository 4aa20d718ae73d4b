"""What the expert finder asks other services, through their APIs (never their tables).

routing: every agent with their skills, presence and load (``GET /api/v1/agents``), and the skills
a case's routing rule requires (``GET /api/v1/routing/cases/{id}``). knowledge:
articles matching the case's text (``GET /api/v1/kb/search``) and who wrote them
(``GET /api/v1/kb/articles/{id}``). Each call is signed as the service ``collaboration``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from omnicase.kit.peers import PeerClient, PeerUnavailable

PAGE = 200
# What knowledge's analysis takes of each text (its limit).
ANALYSED_CHARS = 10_000
MAX_AGENTS = 2000
ROUTING = frozenset({"routing:read"})
# Write: a resolved swarm offers a draft article through knowledge's capture endpoint.
KNOWLEDGE = frozenset({"knowledge:read", "knowledge:write"})


@dataclass(frozen=True)
class AgentSkill:
    skill_id: uuid.UUID
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
class AgentContact:
    email: str
    name: str | None


@dataclass(frozen=True)
class ArticleHit:
    article_id: uuid.UUID
    title: str
    score: float
    author: str


class Peers:
    def __init__(self, routing_url: str, knowledge_url: str, secret: str, *, timeout_seconds: float = 5.0) -> None:
        self.routing = PeerClient(
            "routing", routing_url, secret, caller="collaboration", scopes=ROUTING, timeout_seconds=timeout_seconds
        )
        self.knowledge = PeerClient(
            "knowledge",
            knowledge_url,
            secret,
            caller="collaboration",
            scopes=KNOWLEDGE,
            timeout_seconds=timeout_seconds,
        )

    async def aclose(self) -> None:
        await self.routing.aclose()
        await self.knowledge.aclose()

    async def agents(self) -> list[AgentProfile]:
        found: list[AgentProfile] = []
        async for items in self.routing.pages("/api/v1/agents", limit=PAGE):
            found += [
                AgentProfile(
                    user_id=uuid.UUID(item["user_id"]),
                    name=item["name"],
                    presence=item["presence"]["status"],
                    free_capacity=item["free_capacity"],
                    active_cases=item["active_cases"],
                    capacity=item["capacity"],
                    skills=tuple(
                        AgentSkill(uuid.UUID(skill["skill_id"]), skill["name"], skill["level"])
                        for skill in item["skills"]
                    ),
                )
                for item in items
            ]
            if len(found) >= MAX_AGENTS:
                break
        return found

    async def required_skills(self, case_id: uuid.UUID) -> dict[uuid.UUID, int]:
        """The skills (id → lowest level) routing's rule requires of the case's agent; none when routing
        has not placed the case (yet) or no rule asked for any."""
        response = await self.routing.get(f"/api/v1/routing/cases/{case_id}")
        if response is None:
            return {}
        return {uuid.UUID(skill_id): int(level) for skill_id, level in response.json()["required_skills"].items()}

    async def agent(self, user_id: uuid.UUID) -> dict[str, Any] | None:
        """routing's agent (``GET /api/v1/agents/{id}``), or None when routing has no such agent."""
        response = await self.routing.get(f"/api/v1/agents/{user_id}")
        return None if response is None else dict(response.json())

    async def agent_groups(self, user_id: uuid.UUID) -> frozenset[uuid.UUID]:
        """The groups the agent belongs to in routing (none when routing has no such agent)."""
        agent = await self.agent(user_id)
        return frozenset() if agent is None else frozenset(uuid.UUID(group) for group in agent["group_ids"])

    async def agent_contact(self, user_id: uuid.UUID) -> AgentContact | None:
        """The agent's email address and name as routing knows them (None: no address, or no such agent)."""
        agent = await self.agent(user_id) or {}
        email, name = agent.get("email"), agent.get("name")
        if not (isinstance(email, str) and email):
            return None
        return AgentContact(email, name if isinstance(name, str) else None)

    async def articles(self, text: str, limit: int = 10) -> list[ArticleHit]:
        page = await _found(self.knowledge, "/api/v1/kb/search", {"q": text[:500], "limit": limit})
        hits: list[ArticleHit] = []
        for item in page["items"]:
            article = await _found(self.knowledge, f"/api/v1/kb/articles/{item['article_id']}")
            hits.append(
                ArticleHit(uuid.UUID(item["article_id"]), item["title"], float(item["score"]), article["created_by"])
            )
        return hits

    async def analysed(self, language: str, texts: list[str]) -> tuple[str, list[str]]:
        """``texts`` cut into terms as knowledge cuts articles (``POST /api/v1/kb/analysis``): the text
        search configuration to parse them with, and each one's terms, in order."""
        peer = self.knowledge
        path = "/api/v1/kb/analysis"
        body = {"locale": language, "texts": [text[:ANALYSED_CHARS] for text in texts]}
        try:
            response = await peer.client.post(peer.base_url + path, json=body, headers=peer.headers())
            response.raise_for_status()
            items = response.json()["items"]
        except (httpx.HTTPError, ValueError, KeyError) as error:
            raise PeerUnavailable(f"knowledge did not analyse the texts ({type(error).__name__}: {error})") from error
        configs = {item["config"] for item in items}
        return (configs.pop() if len(configs) == 1 else "simple"), [item["text"] for item in items]

    async def capture(self, case_id: uuid.UUID, swarm_id: uuid.UUID, outcome: str) -> uuid.UUID | None:
        """The draft article knowledge captured from the solved case and the swarm's outcome, linked to both;
        None when knowledge refuses (no such case, or not solved); :class:`PeerUnavailable` when it cannot answer."""
        peer = self.knowledge
        path = f"/api/v1/kb/articles/from-case/{case_id}"
        try:
            response = await peer.client.post(
                peer.base_url + path, json={"swarm_id": str(swarm_id), "outcome": outcome}, headers=peer.headers()
            )
        except httpx.HTTPError as error:
            raise PeerUnavailable(f"knowledge is unreachable ({type(error).__name__}: {error})") from error
        if response.status_code in (404, 409):
            return None
        if not response.is_success:
            raise PeerUnavailable(f"knowledge answered {response.status_code} to POST {path}")
        return uuid.UUID(response.json()["id"])


async def _found(peer: PeerClient, path: str, params: dict[str, Any] | None = None) -> Any:
    """The JSON answer; a 404 is the peer failing too here (what it listed a moment ago is gone)."""
    response = await peer.get(path, params)
    if response is None:
        raise PeerUnavailable(f"{peer.peer} answered 404 to GET {path}")
    return response.json()
