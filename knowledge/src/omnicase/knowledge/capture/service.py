"""Knowledge captured from solved cases: a draft article whose title and first paragraph are the
customer's question and whose body continues with the public answer that solved it, linked to
the case; and the cases each article is linked to."""

from __future__ import annotations

import asyncio
import re
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.clock import utcnow
from omnicase.kit.errors import FieldError, ServiceUnavailable, StateConflict
from omnicase.kit.identity import Identity
from omnicase.kit.pagination import Page, decode_cursor
from omnicase.kit.peers import PeerUnavailable
from omnicase.knowledge.articles.schemas import Article, ArticleCreate, TranslationStatus
from omnicase.knowledge.articles.service import ArticleService
from omnicase.knowledge.capture.desk import CaseDesk, CaseNotFound, CaseThread
from omnicase.knowledge.capture.repository import ArticleCaseRepository
from omnicase.knowledge.capture.schemas import ArticleAttach, ArticleCase, AttachedArticle, CaseCapture
from omnicase.knowledge.deflection.service import Links
from omnicase.knowledge.locales import LOCALE_PATTERN, language_of
from omnicase.knowledge.search.analysis import DEFAULT_LANGUAGE

# A case becomes knowledge once its question was answered.
ANSWERED = frozenset({"solved", "closed"})
_LOCALE = re.compile(LOCALE_PATTERN)
_PARAGRAPH = re.compile(r"\n\s*\n")
MAX_TITLE = 300
MAX_BODY = 200_000


class CaseNotAnswered(StateConflict):
    """The case is not solved, or no public answer solved it."""

    slug, title = "case-not-answered", "The case has no answer to capture"


def question_and_answer(case: CaseThread) -> tuple[str, str]:
    """The customer's question (its first paragraph) and the last public answer sent to them ("" for none).

    The answer is the last public outbound message (staff write them; an admin's reads as
    ``system``); acknowledgements are no messages of a case, internal notes are never read."""
    asked = case.question
    answered = next(
        (m.text for m in reversed(case.messages) if m.direction == "outbound" and m.author_role != "customer"), ""
    )
    paragraph = _PARAGRAPH.split(asked.strip(), maxsplit=1)[0].strip() if asked.strip() else case.subject
    return paragraph, answered.strip()


class ArticleNotPublished(StateConflict):
    slug, title = "article-not-published", "Article not published"


class CaptureService:
    def __init__(self, session: AsyncSession, articles: ArticleService, desk: CaseDesk, pages: Links) -> None:
        self.articles = articles
        self.desk = desk
        self.links = ArticleCaseRepository(session)
        self.pages = pages

    async def attach(self, article_id: uuid.UUID, request: ArticleAttach, by: Identity) -> AttachedArticle:
        """The published translation a reply on the case carries, the article linked to the case (``attached``)."""
        article = await self.articles.get(article_id)
        published = [t for t in article.translations if t.status == TranslationStatus.PUBLISHED]
        if request.locale is not None:
            published = [t for t in published if t.locale == request.locale]
        published.sort(key=lambda t: language_of(t.locale) != DEFAULT_LANGUAGE)
        if not published:
            which = f"in {request.locale}" if request.locale is not None else "in any locale"
            raise ArticleNotPublished(
                f"Article {article_id} is not published {which}: customers could not open it.",
                errors=[FieldError(field="body.locale", message="no published translation", code="not_published")]
                if request.locale is not None
                else None,
            )
        chosen = published[0]
        await self.links.link(article_id, request.case_id, "attached", by.subject, utcnow())
        return AttachedArticle(
            article_id=article_id,
            case_id=request.case_id,
            locale=chosen.locale,
            title=chosen.title,
            url=self.pages.page(article.brand, chosen.locale, article_id),
        )

    async def from_case(self, case_id: uuid.UUID, author: Identity, swarm: CaseCapture) -> Article:
        """A draft article from the solved case and a swarm's outcome, linked to the case (``captured``) and
        the swarm."""
        try:
            case = await self.desk.case(case_id)
        except PeerUnavailable as error:
            raise ServiceUnavailable(f"The case could not be read now: {error}") from error
        if case is None:
            raise CaseNotFound(f"Case {case_id} does not exist.")
        if case.status not in ANSWERED:
            raise CaseNotAnswered(f"Case {case_id} is {case.status}: only a solved or closed case is captured.")
        paragraph, answer = question_and_answer(case)
        if not (answer or swarm.outcome):
            raise CaseNotAnswered(f"Case {case_id} has no public answer (nor a swarm's outcome) to capture.")
        body = "\n\n".join(part for part in (paragraph, answer, swarm.outcome) if part)
        locale = await self._locale(case, f"{case.subject}\n{paragraph}")
        draft = ArticleCreate(
            locale=locale,
            title=case.subject.strip()[:MAX_TITLE] or paragraph[:MAX_TITLE],
            body=body[:MAX_BODY],
            status="draft",
            brand=case.brand,
        )
        article = await self.articles.create(draft, author)
        await self.links.link(article.id, case_id, "captured", author.subject, utcnow(), swarm_id=swarm.swarm_id)
        return article

    async def cases(self, article_id: uuid.UUID, cursor: str | None, limit: int) -> Page[ArticleCase]:
        await self.articles.get(article_id)
        after = decode_cursor(cursor, uuid.UUID, str)
        return await self.links.page(article_id, (after[0], after[1]) if after is not None else None, limit)

    async def _locale(self, case: CaseThread, text: str) -> str:
        """The case's language when it is a locale, else the one its text is written in."""
        if case.locale is not None:
            return case.locale
        return await asyncio.to_thread(self.articles.analyzer.language, text)
