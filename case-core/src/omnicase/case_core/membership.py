"""Which groups the caller belongs to, for group-shared views and group macros.

Membership lives in routing. For people it is asked of routing by the signed
identity's ``agent_id`` (or the user id routing keys agents by), never taken from the
request, so an agent cannot see another group's views by naming the group. Answers
are cached briefly (:class:`~omnicase.case_core.directory.StaffDirectory`); while routing
cannot answer, the last answer stands, and without one the request is a 503 rather
than a sidebar silently missing views. Integrations (API tokens, e.g. a console's
backend acting for its user) name the groups they act for with ``group_id``.
Admins are given ``None`` where they see everything.
"""

from __future__ import annotations

import logging
import uuid
from typing import Annotated

from fastapi import Depends, Query, Request

from omnicase.case_core.directory import StaffDirectory
from omnicase.kit.errors import ServiceUnavailable
from omnicase.kit.identity import CurrentIdentity, Identity
from omnicase.kit.peers import PeerUnavailable

logger = logging.getLogger(__name__)


class MembershipUnavailable(ServiceUnavailable):
    slug = "membership-unavailable"


GroupIds = Annotated[
    list[uuid.UUID],
    Query(
        alias="group_id",
        description="Integrations only: the groups to act for. For people, membership comes from routing "
        "(the groups named here are ignored).",
    ),
]


def _agent_id(identity: Identity) -> uuid.UUID | None:
    if identity.agent_id is not None:
        return identity.agent_id
    try:
        return uuid.UUID(identity.subject)
    except ValueError:
        return None


async def groups_of(identity: Identity, directory: StaffDirectory, claimed: list[uuid.UUID]) -> list[uuid.UUID] | None:
    if identity.kind == "api_token":
        return claimed
    if identity.role == "admin":
        return None  # admins manage every group's views and macros
    if identity.role == "end_user":
        return []
    agent_id = _agent_id(identity)
    if agent_id is None:
        return []
    try:
        return sorted(await directory.groups_of(agent_id))
    except PeerUnavailable as error:
        logger.warning("group membership unavailable", extra={"agent_id": str(agent_id), "error": str(error)})
        raise MembershipUnavailable(
            "Your groups cannot be looked up right now (routing does not answer); try again shortly."
        ) from error


async def _caller_groups(
    request: Request,
    identity: CurrentIdentity,
    claimed: GroupIds = [],  # noqa: B006
) -> list[uuid.UUID] | None:
    return await groups_of(identity, request.app.state.services.directory, claimed)


CallerGroups = Annotated[list[uuid.UUID] | None, Depends(_caller_groups)]
"""The caller's groups (see the module docstring)."""


class Membership:
    """The caller's groups, asked of routing only if needed (most macros are for everyone)."""

    def __init__(self, identity: Identity, directory: StaffDirectory, claimed: list[uuid.UUID]) -> None:
        self.identity = identity
        self.directory = directory
        self.claimed = claimed

    async def groups(self) -> list[uuid.UUID] | None:
        return await groups_of(self.identity, self.directory, self.claimed)


async def _membership(
    request: Request,
    identity: CurrentIdentity,
    claimed: GroupIds = [],  # noqa: B006
) -> Membership:
    return Membership(identity, request.app.state.services.directory, claimed)


CallerMembership = Annotated[Membership, Depends(_membership)]
