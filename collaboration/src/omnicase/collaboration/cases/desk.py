"""Cases as their owners know them, read through their APIs (never a copy kept here).

case-core owns a case (who is assigned, its status, its text): ``GET /api/v1/cases/{id}``, and
solved cases like a text: ``GET /api/v1/cases?status=solved&status=closed&q=…``. sla-engine owns
its clocks: ``GET /api/v1/sla/cases/{id}``. Each call is signed as the service ``collaboration``
and made before the request's transaction writes anything, so nothing waits on a peer holding
rows. Read through, a case is there as soon as case-core answered its creation (a projection of
``case.events`` lagged it), and collaboration consumes no topic.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from omnicase.kit.peers import PeerClient, PeerUnavailable

CASES = frozenset({"cases:read"})
SLA = frozenset({"sla:read"})
# Solved cases read per expert search (the most recently changed of those sharing a word).
SOLVED_CANDIDATES = 100
# case-core's q is at most 500 characters of web-search syntax.
MAX_QUERY = 500


@dataclass(frozen=True)
class CaseView:
    id: uuid.UUID
    number: int
    subject: str
    description: str
    status: str
    priority: str
    assignee_id: uuid.UUID | None
    requester_id: uuid.UUID | None
    language: str | None

    @property
    def solved(self) -> bool:
        return self.status in ("solved", "closed")


def _view(item: dict[str, Any]) -> CaseView:
    def maybe(key: str) -> uuid.UUID | None:
        value = item.get(key)
        return uuid.UUID(value) if value else None

    return CaseView(
        id=uuid.UUID(item["id"]),
        number=item["number"],
        subject=item["subject"],
        description=item.get("description") or "",
        status=item["status"],
        priority=item["priority"],
        assignee_id=maybe("assignee_id"),
        requester_id=maybe("requester_id"),
        language=item.get("language"),
    )


def any_word_query(text: str) -> str:
    """``text``'s words as web-search syntax matching any of them (``a or b or c``), within case-core's limit."""
    words = list(dict.fromkeys(word for word in re.findall(r"\w+", text.lower()) if word != "or"))
    query = ""
    for word in words:
        longer = f"{query} or {word}" if query else word
        if len(longer) > MAX_QUERY:
            break
        query = longer
    return query


class CaseDesk:
    def __init__(self, case_core_url: str, sla_url: str, secret: str, *, timeout_seconds: float = 5.0) -> None:
        self.cases = PeerClient(
            "case-core", case_core_url, secret, caller="collaboration", scopes=CASES, timeout_seconds=timeout_seconds
        )
        self.sla = PeerClient(
            "sla-engine", sla_url, secret, caller="collaboration", scopes=SLA, timeout_seconds=timeout_seconds
        )

    async def aclose(self) -> None:
        await self.cases.aclose()
        await self.sla.aclose()

    async def case(self, case_id: uuid.UUID) -> CaseView | None:
        """The case as case-core has it now; None: it has no such case (:class:`PeerUnavailable`: it cannot say)."""
        response = await self.cases.get(f"/api/v1/cases/{case_id}")
        return None if response is None else _view(response.json())

    async def solved_like(self, text: str) -> list[CaseView]:
        """Solved or closed cases sharing a word with ``text`` (case-core's search), most recently changed first."""
        query = any_word_query(text)
        if not query:
            return []
        response = await self.cases.get(
            "/api/v1/cases",
            {"status": ["solved", "closed"], "q": query, "sort": "-updated_at", "limit": SOLVED_CANDIDATES},
        )
        return [] if response is None else [_view(item) for item in response.json()["items"]]

    async def sla_due(self, case_id: uuid.UUID) -> datetime | None:
        """The earliest due time of the case's running SLA clocks; None when none runs, sla-engine does not
        track the case or cannot answer now (a summary shows no due time rather than failing)."""
        try:
            response = await self.sla.get(f"/api/v1/sla/cases/{case_id}")
        except PeerUnavailable:
            return None
        if response is None:
            return None
        due = [
            datetime.fromisoformat(milestone["due_at"])
            for milestone in response.json()["milestones"]
            if milestone["status"] == "running" and milestone.get("due_at")
        ]
        return min(due, default=None)
