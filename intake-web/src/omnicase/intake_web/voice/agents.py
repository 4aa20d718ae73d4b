"""Which agent takes a call: routing's answer for the call's case, read over its REST API.

A call's case is routed like every other case (rules, queues, routing's capacity with the voice
channel's cost, offers the console's live stream rings): the agent who accepts the offer, or is
assigned the case, holds it, and a caller on hold is connected to them at the next check.
"""

from __future__ import annotations

import uuid

from omnicase.kit.peers import PeerClient

# Routing's states of a case held by an agent: accepted or auto-assigned by routing, or assigned by a person.
_HELD = frozenset({"assigned", "manual"})


class CallAgents(PeerClient):
    def __init__(self, base_url: str, secret: str, *, timeout_seconds: float) -> None:
        super().__init__(
            "routing",
            base_url,
            secret,
            caller="intake-web",
            scopes=frozenset({"routing:read"}),
            timeout_seconds=timeout_seconds,
        )

    async def agent_taking(self, case_id: uuid.UUID) -> uuid.UUID | None:
        """The agent holding the case, who is to be dialled; None while it waits or is offered
        (:class:`~omnicase.kit.peers.PeerUnavailable` when routing cannot say)."""
        response = await self.get(f"/api/v1/routing/cases/{case_id}")
        if response is None:
            return None
        routed = response.json()
        agent = routed.get("assignee_id")
        return uuid.UUID(agent) if routed.get("state") in _HELD and agent else None


def client_identity(agent_id: uuid.UUID) -> str:
    """The identity an agent's console registers with the provider's voice client (Twilio's identities
    are letters, digits and underscores): ``agent_`` and the user id's 32 hex digits."""
    return f"agent_{agent_id.hex}"
