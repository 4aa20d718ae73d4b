"""Who is calling, once the gateway has checked their bearer token; roles and scopes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from omnicase.kit.identity import Role, SubjectKind, sign_identity

UserRole = Literal["admin", "agent", "light_agent", "end_user"]

SCOPES: dict[str, str] = {
    "cases:read": "Read cases, their messages and history, views and macros.",
    "cases:write": "Create and update cases, post messages.",
    "cases:notes": "Post internal notes on cases (what light agents may write).",
    "contacts:read": "Read contacts and organizations.",
    "contacts:write": "Create and update contacts and organizations.",
    "webhooks:read": "Read webhook subscriptions.",
    "webhooks:write": "Create, update and delete webhook subscriptions.",
    "channels:read": "Read mailboxes, forms and messaging channels.",
    "channels:write": "Configure mailboxes, forms and messaging channels.",
    "routing:read": "Read agents, groups, skills and queues.",
    "routing:write": "Configure agents, groups, skills, queues and presence.",
    "routing:presence": "Change one's own routing agent record (presence, capacity).",
    "sla:read": "Read SLA policies, business hours and automations.",
    "sla:write": "Configure SLA policies, business hours and automations.",
    "knowledge:read": "Read knowledge base sections and articles, drafts included, and search them.",
    "knowledge:write": "Write knowledge base sections and articles: create, translate, publish, archive.",
    "reports:read": "Read the desk's metrics, charts and the CSV export of its cases.",
    "collaboration:read": "Read swarms around cases, their members and threads.",
    "collaboration:write": "Start, join, post in and end swarms; promote a swarm message to its case.",
    "users:read": "Read gateway users.",
    "users:write": "Create and update gateway users.",
}

# What a person's role implies, forwarded to services in the identity token so
# they can check people and integrations the same way.
ROLE_SCOPES: dict[UserRole, frozenset[str]] = {
    "admin": frozenset(SCOPES),
    "agent": frozenset(
        {
            "cases:read",
            "cases:write",
            "cases:notes",
            "contacts:read",
            "contacts:write",
            "channels:read",
            "routing:read",
            "routing:presence",
            "sla:read",
            "knowledge:read",
            "reports:read",
            "collaboration:read",
            "collaboration:write",
        }
    ),
    "light_agent": frozenset(
        {
            "cases:read",
            "cases:notes",
            "contacts:read",
            "channels:read",
            "routing:read",
            "routing:presence",
            "sla:read",
            "knowledge:read",
            "collaboration:read",
            "collaboration:write",
        }
    ),
    "end_user": frozenset({"cases:read", "cases:write"}),
}


@dataclass(frozen=True)
class Principal:
    """A verified caller: a user (through an access token) or an integration (API token)."""

    subject: uuid.UUID
    kind: SubjectKind
    role: Role
    scopes: frozenset[str]
    name: str
    agent_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None
    organization_cases: bool = False
    session_id: uuid.UUID | None = field(default=None, compare=False)

    @property
    def is_admin(self) -> bool:
        return self.kind == "user" and self.role == "admin"

    def identity_token(self, secret: str, now: datetime, ttl_seconds: int) -> str:
        """The kit identity header value the services verify."""
        return sign_identity(
            subject=str(self.subject),
            kind=self.kind,
            role=self.role,
            scopes=self.scopes,
            name=self.name,
            agent_id=self.agent_id,
            contact_id=self.contact_id,
            organization_id=self.organization_id,
            organization_cases=self.organization_cases,
            secret=secret,
            now=now,
            ttl_seconds=ttl_seconds,
        )
