"""Who may read and configure forms and channels: the gateway's ``channels`` scopes.

People hold their role's scopes (agents read, admins also write) and integrations their
API token's, so reads need ``channels:read`` and changes ``channels:write``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from omnicase.kit.identity import Identity, area_access

ChannelAccess = Annotated[Identity, Depends(area_access("channels"))]
