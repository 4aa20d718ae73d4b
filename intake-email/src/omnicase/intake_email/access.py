"""Who may do what here, from the identity the gateway vouches for (``omnicase.kit.identity``).

- Mailbox configuration: admins, and integrations holding ``intake:admin`` (the same
  scope intake-web asks for its forms and channels).
- Stored inbound messages and their sources: agents and admins, and integrations
  holding ``cases:read``; end users never see raw mail.
- Attachment bytes by sha256 stay open to other services (case-core fetches them
  without a caller to vouch for); through the gateway every ``/api/`` call is
  authenticated anyway.
"""

from __future__ import annotations

from omnicase.kit.errors import Forbidden
from omnicase.kit.identity import CurrentIdentity, Identity

ADMIN_SCOPE = "intake:admin"
READ_SCOPE = "cases:read"


async def require_admin(identity: CurrentIdentity) -> Identity:
    if identity.role == "admin" or (identity.role == "integration" and identity.has_scope(ADMIN_SCOPE)):
        return identity
    raise Forbidden(f"Only admins (or API tokens with the {ADMIN_SCOPE} scope) may configure mailboxes.")


async def require_reader(identity: CurrentIdentity) -> Identity:
    if identity.role in ("admin", "agent", "light_agent") or (
        identity.role == "integration" and identity.has_scope(READ_SCOPE)
    ):
        return identity
    raise Forbidden(f"Only agents (or API tokens with the {READ_SCOPE} scope) may read inbound mail.")
