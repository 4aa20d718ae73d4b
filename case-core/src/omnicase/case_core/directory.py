"""Agents and groups as routing knows them: email addresses and group membership.

routing owns agents and groups; case-core asks its API (signed as the service
``case-core`` with ``routing:read``) and never reads routing's tables. Calls are made
off the request's transaction. Membership answers are kept for a short while (the
sidebar asks on every view request), so a change in routing shows within ``ttl``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from omnicase.kit.clock import get_clock
from omnicase.kit.peers import PeerClient, PeerUnavailable

SCOPES = frozenset({"routing:read"})
PAGE = 200


@dataclass(frozen=True)
class StaffMember:
    agent_id: uuid.UUID
    name: str
    email: str | None


class StaffDirectory(PeerClient):
    def __init__(
        self,
        base_url: str,
        secret: str,
        *,
        timeout_seconds: float = 5.0,
        ttl_seconds: float = 30.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(
            "routing",
            base_url,
            secret,
            caller="case-core",
            scopes=SCOPES,
            timeout_seconds=timeout_seconds,
            client=client,
        )
        self.ttl_seconds = ttl_seconds
        self._groups: dict[uuid.UUID, tuple[float, frozenset[uuid.UUID]]] = {}

    @staticmethod
    def _member(item: dict[str, Any]) -> StaffMember:
        return StaffMember(uuid.UUID(item["user_id"]), item.get("name") or "", item.get("email"))

    async def agent(self, agent_id: uuid.UUID) -> StaffMember | None:
        """The agent, or None when routing has no such agent."""
        response = await self.get(f"/api/v1/agents/{agent_id}")
        return None if response is None else self._member(response.json())

    async def group_members(self, group_id: uuid.UUID) -> list[StaffMember] | None:
        """Every agent of the group, or None when routing has no such group."""
        if await self.get(f"/api/v1/groups/{group_id}") is None:
            return None
        members: list[StaffMember] = []
        async for items in self.pages("/api/v1/agents", {"group_id": str(group_id)}, limit=PAGE):
            members += [self._member(item) for item in items]
        return members

    async def groups_of(self, agent_id: uuid.UUID) -> frozenset[uuid.UUID]:
        """The groups the agent belongs to (none when routing does not know them), cached for ``ttl``;
        while routing cannot answer, the last answer (however old)."""
        now = get_clock().monotonic()
        cached = self._groups.get(agent_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            response = await self.get(f"/api/v1/agents/{agent_id}")
        except PeerUnavailable:
            if cached is not None:
                return cached[1]  # the last answer beats none while routing is away
            raise
        groups = frozenset() if response is None else frozenset(uuid.UUID(g) for g in response.json()["group_ids"])
        if len(self._groups) > 10_000 and agent_id not in self._groups:
            self._groups.clear()  # a bound, not an LRU: entries are cheap to fetch again
        self._groups[agent_id] = (now + self.ttl_seconds, groups)
        return groups
