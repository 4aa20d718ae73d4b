"""Who may configure forms and channels: admins, and integrations holding the ``intake:admin`` scope."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from omnicase.kit.errors import Forbidden
from omnicase.kit.identity import CurrentIdentity, Identity

ADMIN_SCOPE = "intake:admin"


async def require_admin(identity: CurrentIdentity) -> Identity:
    if identity.role == "admin" or (identity.role == "integration" and identity.has_scope(ADMIN_SCOPE)):
        return identity
    raise Forbidden(f"Only admins (or API tokens with the {ADMIN_SCOPE} scope) may configure intake.")


AdminIdentity = Annotated[Identity, Depends(require_admin)]
