"""Who may call routing's API: the second lock after the gateway's.

Every route checks the identity the gateway forwards (:mod:`omnicase.kit.identity`);
without a valid one it answers 401. Scopes decide, the same way for people and API
tokens (the gateway forwards the scopes a person's role grants):

- reads need ``routing:read``;
- configuration (agents, skills, groups, rules) needs ``routing:write`` (admins);
- an agent's own presence and own offers (accept, decline) need ``routing:presence``
  and the caller to be that agent (``agent_id``, or the user id routing keys agents
  by), unless the caller holds ``routing:write``.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from omnicase.kit.errors import Forbidden
from omnicase.kit.identity import CurrentIdentity, Identity

READ, WRITE, PRESENCE = "routing:read", "routing:write", "routing:presence"


def _require(identity: Identity, scope: str) -> Identity:
    if identity.role == "end_user" or not identity.has_scope(scope):
        raise Forbidden(f"This needs the scope {scope}.", extra={"required_scope": scope})
    return identity


async def _reader(identity: CurrentIdentity) -> Identity:
    return _require(identity, READ)


async def _admin(identity: CurrentIdentity) -> Identity:
    return _require(identity, WRITE)


def is_agent(identity: Identity, user_id: uuid.UUID) -> bool:
    return identity.kind == "user" and (identity.agent_id == user_id or identity.subject == str(user_id))


async def _agent_or_admin(user_id: uuid.UUID, identity: CurrentIdentity) -> Identity:
    if identity.has_scope(WRITE) and identity.role != "end_user":
        return identity
    _require(identity, PRESENCE)
    if not is_agent(identity, user_id):
        raise Forbidden("Agents may change only their own presence and answer only their own offers.")
    return identity


Reader = Depends(_reader)
Admin = Depends(_admin)
AgentOrAdmin = Depends(_agent_or_admin)
CallerIdentity = Annotated[Identity, Depends(_agent_or_admin)]
