"""Who may do what here, from the identity the gateway vouches for (``omnicase.kit.identity``).

- Mailboxes: the gateway's ``channels`` scopes, ``channels:read`` to read and
  ``channels:write`` to change (agents read, admins also write; integrations by their
  API token's scopes), as intake-web's forms and channels.
- Stored inbound messages and their sources: agents and admins, and integrations
  holding ``cases:read``; end users never see raw mail.
- Attachment bytes by sha256: any identity the suite signed (case-core fetches them
  with its service identity); the kit refuses ``/api/`` calls without one.
"""

from __future__ import annotations

from omnicase.kit.errors import Forbidden
from omnicase.kit.identity import CurrentIdentity, Identity, area_access

READ_SCOPE = "cases:read"

channel_access = area_access("channels")


async def require_reader(identity: CurrentIdentity) -> Identity:
    if identity.role in ("admin", "agent", "light_agent") or (
        identity.role == "integration" and identity.has_scope(READ_SCOPE)
    ):
        return identity
    raise Forbidden(f"Only agents (or API tokens with the {READ_SCOPE} scope) may read inbound mail.")
