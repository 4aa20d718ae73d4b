"""Asking knowledge for the articles that may answer a case's question (``POST /api/v1/kb/suggestions``).

knowledge owns articles and records each suggestion (so its deflection counts what was
suggested, opened and solved); case-core asks it for auto-responses, intake-web for the chat
widget's answers first. The caller is signed as an integration named after itself holding
``knowledge:write`` (recording a suggestion is a write). A caller never waits long: when
knowledge cannot answer in time there are simply no suggestions (logged).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

import httpx

from omnicase.kit.peers import PeerClient

logger = logging.getLogger(__name__)

SCOPES = frozenset({"knowledge:write"})
# What the customer wrote is read up to this long (knowledge reads less still).
MAX_TEXT = 5000


@dataclass(frozen=True)
class SuggestedArticle:
    title: str
    url: str  # the help center page with the suggestion's single-use token (`?s=`)
    locale: str
    article_id: uuid.UUID | None = None


class ArticleSuggester(PeerClient):
    def __init__(self, base_url: str, secret: str, *, caller: str, timeout_seconds: float = 3.0) -> None:
        super().__init__("knowledge", base_url, secret, caller=caller, scopes=SCOPES, timeout_seconds=timeout_seconds)

    async def suggest(
        self, case_id: uuid.UUID | None, subject: str, text: str, brand: str | None
    ) -> list[SuggestedArticle]:
        """Up to three articles for the case's question (``case_id`` None: a question that is no case yet, whose
        answers knowledge counts and solves nothing by); none when knowledge cannot answer now."""
        body = {
            "case_id": None if case_id is None else str(case_id),
            "subject": subject[:1000],
            "text": text[:MAX_TEXT],
            "brand": brand,
        }
        try:
            response = await self.client.post(
                f"{self.base_url}/api/v1/kb/suggestions", json=body, headers=self.headers()
            )
            response.raise_for_status()
            items = response.json()["items"]
            return [
                SuggestedArticle(item["title"], item["url"], item["locale"], uuid.UUID(item["article_id"]))
                for item in items
            ]
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as error:
            logger.warning(
                "no suggested articles: knowledge did not answer",
                extra={
                    "case_id": None if case_id is None else str(case_id),
                    "caller": self.caller,
                    "error": repr(error),
                },
            )
            return []
