"""Who is acting and what they may do.

Callers reach case-core through the gateway, which forwards a signed identity
(:mod:`omnicase.kit.identity`); without a valid one a route answers 401. Each
route names the scope it needs (the gateway's scopes: ``cases:read``,
``cases:write``, ``cases:notes``, ``contacts:read``, ``contacts:write``), checked
the same way for people and API tokens. Custom field definitions are an admin's
(or an integration's with ``cases:write``).

End users (customers, from a portal) are let onto a few routes only, and there see
their own cases (or their organization's, when the gateway says so), their public
messages, and may open cases and reply; anything else is 403, and a case that is not
theirs is a 404 (its existence is not theirs to learn either).

Consumers act as an :class:`Actor` too: ``contact:<id>`` for a customer's message,
the command's reason for routing and SLA rules.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends

from omnicase.case_core.cases.repository import CaseRow
from omnicase.kit.errors import Forbidden
from omnicase.kit.identity import CurrentIdentity, Identity


@dataclass(frozen=True)
class Customer:
    """What a customer may see: their contact's cases, or their organization's."""

    contact_id: uuid.UUID
    organization_id: uuid.UUID | None = None
    organization_cases: bool = False

    def sees(self, case: CaseRow) -> bool:
        if case.requester_id == self.contact_id:
            return True
        return (
            self.organization_cases
            and self.organization_id is not None
            and (case.organization_id == self.organization_id)
        )


@dataclass(frozen=True)
class Actor:
    """``name`` is what history and events record: ``user:<id>``, ``contact:<id>``, a rule's reason, …"""

    name: str
    via: str
    user_id: uuid.UUID | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    customer: Customer | None = None

    @property
    def role(self) -> str:
        if self.name.startswith("user:"):
            return "agent"
        if self.name.startswith("contact:"):
            return "customer"
        return "system"

    def may(self, scope: str) -> bool:
        return scope in self.scopes


def actor_of(identity: Identity) -> Actor:
    if identity.kind == "api_token":
        return Actor(name=f"integration:{identity.subject}", via="api", scopes=identity.scopes)
    if identity.role == "end_user":
        if identity.contact_id is None:
            raise Forbidden("This customer account is not linked to a contact.")
        customer = Customer(identity.contact_id, identity.organization_id, identity.organization_cases)
        return Actor(name=f"contact:{identity.contact_id}", via="portal", scopes=identity.scopes, customer=customer)
    try:
        user_id: uuid.UUID | None = uuid.UUID(identity.subject)
    except ValueError:
        user_id = None
    return Actor(name=f"user:{identity.subject}", via="api", user_id=user_id, scopes=identity.scopes)


def requires(*scopes: str, customers: bool = False) -> Callable[[Identity], Awaitable[Actor]]:
    """A dependency: the acting caller, who must hold one of ``scopes`` (customers only where allowed)."""

    async def dependency(identity: CurrentIdentity) -> Actor:
        if identity.role == "end_user" and not customers:
            raise Forbidden("Customers cannot do this; it is for agents and integrations.")
        if not any(identity.has_scope(scope) for scope in scopes):
            raise Forbidden(f"This needs the scope {' or '.join(scopes)}.", extra={"required_scope": scopes[0]})
        return actor_of(identity)

    return dependency


async def _admin(identity: CurrentIdentity) -> Actor:
    if identity.role == "admin" or (identity.role == "integration" and identity.has_scope("cases:write")):
        return actor_of(identity)
    raise Forbidden("Only admins (or API tokens with cases:write) may define custom fields.")


CaseReader = Annotated[Actor, Depends(requires("cases:read"))]
CaseWriter = Annotated[Actor, Depends(requires("cases:write"))]
PortalReader = Annotated[Actor, Depends(requires("cases:read", customers=True))]
PortalWriter = Annotated[Actor, Depends(requires("cases:write", customers=True))]
MessageWriter = Annotated[Actor, Depends(requires("cases:write", "cases:notes", customers=True))]
ContactReader = Annotated[Actor, Depends(requires("contacts:read"))]
ContactWriter = Annotated[Actor, Depends(requires("contacts:write"))]
Admin = Annotated[Actor, Depends(_admin)]
