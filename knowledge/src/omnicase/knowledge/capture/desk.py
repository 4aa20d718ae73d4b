"""Cases as case-core knows them, for knowledge captured from solved cases.

case-core owns cases and their messages; knowledge asks its API (signed as the service
``knowledge`` with ``cases:read``) and never reads its tables. Asked before the request's
transaction writes anything, so no transaction waits on it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from omnicase.kit.errors import NotFound
from omnicase.kit.peers import PeerClient
from omnicase.knowledge.locales import locale_or_none

SCOPES = frozenset({"cases:read"})
PAGE = 100
# A case's thread is read up to this many messages (its question is the first, its answer the last).
MAX_MESSAGES = 1000


class CaseNotFound(NotFound):
    """No case has this id (case-core says so)."""


@dataclass(frozen=True)
class ThreadMessage:
    author_role: str
    direction: str
    text: str


@dataclass(frozen=True)
class CaseThread:
    id: uuid.UUID
    subject: str
    status: str
    brand: str | None
    language: str | None
    # Public messages only, oldest first.
    messages: list[ThreadMessage]

    @property
    def locale(self) -> str | None:
        """The case's language when it is a locale (canonical), else None."""
        return locale_or_none(self.language)

    @property
    def question(self) -> str:
        """The customer's first message (\"\" for none)."""
        return next((m.text for m in self.messages if m.direction == "inbound" and m.text.strip()), "")


class CaseDesk(PeerClient):
    def __init__(self, base_url: str, secret: str, *, timeout_seconds: float = 5.0) -> None:
        super().__init__(
            "case-core", base_url, secret, caller="knowledge", scopes=SCOPES, timeout_seconds=timeout_seconds
        )

    async def _get(self, path: str, params: dict[str, Any] | None = None) -> Any | None:
        """The JSON answer to a GET; None for 404; :class:`PeerUnavailable` for anything but 2xx."""
        response = await self.get(path, params)
        return None if response is None else response.json()

    async def case(self, case_id: uuid.UUID, max_messages: int = MAX_MESSAGES) -> CaseThread | None:
        """The case with its (first ``max_messages``) public messages, or None when case-core has no such case."""
        case = await self._get(f"/api/v1/cases/{case_id}")
        if case is None:
            return None
        messages: list[ThreadMessage] = []
        path = f"/api/v1/cases/{case_id}/messages"
        async for items in self.pages(path, {"public_only": "true"}, limit=min(PAGE, max_messages)):
            messages += [ThreadMessage(m["author_role"], m["direction"], m["text"]) for m in items]
            if len(messages) >= max_messages:
                break
        return CaseThread(
            id=case_id,
            subject=case["subject"],
            status=case["status"],
            # Only a brand case-core has (a case may keep a string no brand has): else the default brand.
            brand=case.get("brand") if case.get("brand_id") else None,
            language=case.get("language"),
            messages=messages,
        )
