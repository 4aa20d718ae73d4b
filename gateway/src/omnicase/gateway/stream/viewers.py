"""Who sees which stream events, and in which form: the stream's access rules in one place."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from omnicase.gateway.access import guards
from omnicase.gateway.identity.principal import Principal
from omnicase.gateway.stream.events import AGENT_TYPES, SWARM_TYPES, StreamEvent


@dataclass(frozen=True)
class Viewer:
    principal: Principal

    @property
    def is_customer(self) -> bool:
        return self.principal.role == "end_user"

    def sees(self, event: StreamEvent) -> bool:
        principal = self.principal
        if self.is_customer:
            facts = event.facts
            return (
                event.customer_data is not None
                and facts is not None
                and guards.owns_case(
                    principal,
                    {"requester_id": _text(facts.requester_id), "organization_id": _text(facts.organization_id)},
                )
            )
        if event.type in AGENT_TYPES:
            return (
                (principal.agent_id is not None and event.offered_to == principal.agent_id)
                or principal.is_admin
                or (principal.kind == "api_token" and "routing:read" in principal.scopes)
            )
        if event.type in SWARM_TYPES:
            return principal.kind != "api_token" or "collaboration:read" in principal.scopes
        return True

    def data(self, event: StreamEvent) -> str:
        if self.is_customer:
            assert event.customer_data is not None
            return event.customer_data
        return event.staff_data


def wanted(
    viewer: Viewer, types: frozenset[str] | None, case_id: uuid.UUID | None, group_id: uuid.UUID | None
) -> Callable[[StreamEvent], bool]:
    """The client's filters on top of what the viewer may see."""

    def accepts(event: StreamEvent) -> bool:
        return (
            (types is None or event.type in types)
            and (case_id is None or event.case_id == case_id)
            and (group_id is None or event.group_id == group_id)
            and viewer.sees(event)
        )

    return accepts


def _text(value: uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None
