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

from collections.abc import Awaitable, Callable
from html import escape

from omnicase.case_core.settings import CaseCoreRuntime
from omnicase.kit.app import Stop
from omnicase.kit.suggestions import ArticleSuggester as KnowledgeSuggester
from omnicase.kit.suggestions import SuggestedArticle

# The line above the links, in the articles' language (English when not shipped).
_HEADINGS = {
    "en": "These articles may answer your question:",
    "ko": "다음 도움말이 궁금한 점을 해결해 드릴 수 있습니다:",
    "zh": "以下文章也许能解答您的问题:",
}


class ArticleSuggester(KnowledgeSuggester):
    """knowledge's suggestions, asked as case-core."""

    def __init__(self, base_url: str, secret: str, *, timeout_seconds: float = 3.0) -> None:
        super().__init__(base_url, secret, caller="case-core", timeout_seconds=timeout_seconds)


def suggestions_text(articles: list[SuggestedArticle]) -> str:
    """The block the plain-text acknowledgement ends with."""
    lines = [f"- {article.title}: {article.url}" for article in articles]
    return f"\n\n{_heading(articles)}\n" + "\n".join(lines)


def suggestions_html(articles: list[SuggestedArticle]) -> str:
    """The block the HTML acknowledgement ends with."""
    items = "".join(f'<li><a href="{escape(article.url)}">{escape(article.title)}</a></li>' for article in articles)
    return f"<p>{escape(_heading(articles))}</p><ul>{items}</ul>"


def _heading(articles: list[SuggestedArticle]) -> str:
    language = articles[0].locale.partition("-")[0].lower()
    return _HEADINGS.get(language, _HEADINGS["en"])


def suggester_part(suggester: ArticleSuggester) -> Callable[[CaseCoreRuntime], Awaitable[Stop]]:
    """The app's part that closes the suggester's connections at shutdown."""

    async def start(_runtime: CaseCoreRuntime) -> Stop:
        return suggester.aclose

    return start
