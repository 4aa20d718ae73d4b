"""Suggested articles for an auto-response, as knowledge chooses them.

A mailbox or web form that sends suggested articles says so in its messages'
``metadata.suggest_articles``; the auto-response of the case such a message opens then lists up
to three published articles of the case's brand, in the customer's language, each linking to the
help center where "Yes, this answered my question" solves the case (knowledge sends
``case.set_status`` on ``case.commands``; case-core applies it like any command).

knowledge owns articles and the suggestions it records; case-core asks its API through the
kit's client (:mod:`omnicase.kit.suggestions`, signed as the service ``case-core``) and never
reads knowledge's tables. The call is made while
the intake batch's transaction is open, so it is bounded by ``knowledge_timeout_seconds``, and
only for the opt-in messages that open a case; when knowledge cannot answer in time the
acknowledgement goes out without suggestions (logged), never later and never twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from html import escape

import httpx

from omnicase.case_core.settings import CaseCoreRuntime
from omnicase.kit import locales
from omnicase.kit.app import Stop
from omnicase.kit.peers import PeerUnavailable
from omnicase.kit.suggestions import ArticleSuggester as KnowledgeSuggester
from omnicase.kit.suggestions import SuggestedArticle


class ArticleSuggester(KnowledgeSuggester):
    """knowledge's suggestions, asked as case-core."""

    def __init__(self, base_url: str, secret: str, *, timeout_seconds: float = 3.0) -> None:
        super().__init__(base_url, secret, caller="case-core", timeout_seconds=timeout_seconds)

    async def attach(self, article_id: uuid.UUID, case_id: uuid.UUID) -> SuggestedArticle:
        """The article an agent's reply on the case carries (its published translation, English first),
        linked to the case by knowledge (``attached``).

        Raises :class:`ArticleRefused` when knowledge has no such published article and
        :class:`~omnicase.kit.peers.PeerUnavailable` when it cannot answer now.
        """
        url = f"{self.base_url}/api/v1/kb/articles/{article_id}/cases"
        try:
            response = await self.client.post(url, json={"case_id": str(case_id)}, headers=self.headers())
            if response.status_code in (404, 409):
                raise ArticleRefused(response.status_code, str(response.json().get("detail", "")))
            response.raise_for_status()
            found = response.json()
            return SuggestedArticle(found["title"], found["url"], found["locale"])
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as error:
            raise PeerUnavailable(f"knowledge did not attach article {article_id}: {error!r}") from error


def suggestions_text(articles: list[SuggestedArticle]) -> str:
    """The block the plain-text acknowledgement ends with."""
    return f"\n\n{_heading(articles)}{links_text(articles)}"


def suggestions_html(articles: list[SuggestedArticle]) -> str:
    """The block the HTML acknowledgement ends with."""
    return f"<p>{escape(_heading(articles))}</p>{links_html(articles)}"


def links_text(articles: list[SuggestedArticle]) -> str:
    """The articles as lines of text (an agent's reply ends with them)."""
    return "".join(f"\n- {article.title}: {article.url}" for article in articles)


def links_html(articles: list[SuggestedArticle]) -> str:
    """The articles as an HTML list."""
    items = "".join(f'<li><a href="{escape(article.url)}">{escape(article.title)}</a></li>' for article in articles)
    return f"<ul>{items}</ul>"


class ArticleRefused(Exception):
    """knowledge refused to attach the article: ``status`` 404 (no such article) or 409 (not published)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _heading(articles: list[SuggestedArticle]) -> str:
    # In the articles' language (English when the product has no words in it).
    return locales.text("auto_response", "articles_heading", articles[0].locale)


def suggester_part(suggester: ArticleSuggester) -> Callable[[CaseCoreRuntime], Awaitable[Stop]]:
    """The app's part that closes the suggester's connections at shutdown."""

    async def start(_runtime: CaseCoreRuntime) -> Stop:
        return suggester.aclose

    return start
