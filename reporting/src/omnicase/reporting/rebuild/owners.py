"""The owners' data the read model is rebuilt from, through their APIs (no service reads another's tables):
case-core's cases, their history and public messages, sla-engine's SLA state per case and its policies,
intake-web's voice channels and the calls each took or placed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from omnicase.kit.peers import PeerClient

SCOPES = frozenset({"cases:read", "sla:read", "channels:read"})
PAGE = 200


class Owners:
    def __init__(
        self,
        case_core_url: str,
        sla_engine_url: str,
        secret: str,
        client: httpx.AsyncClient,
        *,
        intake_web_url: str,
    ) -> None:
        self.case_core = PeerClient(
            "case-core", case_core_url, secret, caller="reporting", scopes=SCOPES, client=client
        )
        self.sla_engine = PeerClient(
            "sla-engine", sla_engine_url, secret, caller="reporting", scopes=SCOPES, client=client
        )
        self.intake_web = PeerClient(
            "intake-web", intake_web_url, secret, caller="reporting", scopes=SCOPES, client=client
        )

    def case_pages(self) -> AsyncIterator[list[dict[str, Any]]]:
        """Every case, oldest first, a page at a time."""
        return self.case_core.pages("/api/v1/cases", {"sort": "created_at"}, limit=PAGE)

    async def history(self, case_id: str) -> list[dict[str, Any]]:
        return [entry async for page in self.case_core.pages(f"/api/v1/cases/{case_id}/history") for entry in page]

    async def public_messages(self, case_id: str) -> list[dict[str, Any]]:
        path = f"/api/v1/cases/{case_id}/messages"
        return [message async for page in self.case_core.pages(path, {"public_only": "true"}) for message in page]

    async def case_sla(self, case_id: str) -> dict[str, Any] | None:
        return await _json(self.sla_engine, f"/api/v1/sla/cases/{case_id}")

    async def policy(self, policy_id: str) -> dict[str, Any] | None:
        return await _json(self.sla_engine, f"/api/v1/sla/policies/{policy_id}")

    def voice_channel_pages(self) -> AsyncIterator[list[dict[str, Any]]]:
        """Every voice channel, a page at a time."""
        return self.intake_web.pages("/api/v1/voice/channels", limit=PAGE)

    def call_pages(self, channel_id: str) -> AsyncIterator[list[dict[str, Any]]]:
        """Every call a voice channel took or placed (newest first), a page at a time."""
        return self.intake_web.pages(f"/api/v1/voice/channels/{channel_id}/calls", limit=PAGE)


async def _json(peer: PeerClient, path: str) -> dict[str, Any] | None:
    response = await peer.get(path)
    answer: dict[str, Any] | None = None if response is None else response.json()
    return answer
