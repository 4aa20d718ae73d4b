"""Suggested articles and deflection: up to three published articles answering a case's question,
each link carrying a sealed single-use token; the customer's "Yes, this answered my question"
solves the case through ``case.commands`` (case-core stays the one writer of cases), "No" leaves
it open. Suggestions, openings and answers are rows, counted per article.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.clock import utcnow
from omnicase.kit.errors import ServiceUnavailable
from omnicase.kit.events import ArticleAnswered, ArticleSuggested, CaseStatus, SetCaseStatus
from omnicase.kit.ids import uuid7
from omnicase.kit.outbox import Outbox
from omnicase.kit.peers import PeerUnavailable
from omnicase.kit.sealing import Sealer, SealingError
from omnicase.knowledge.capture.desk import CaseDesk, CaseNotFound
from omnicase.knowledge.capture.repository import ArticleCaseRepository
from omnicase.knowledge.case_suggestions.repository import CaseSuggestionRepository, StoredSuggestion
from omnicase.knowledge.deflection.picking import pick
from omnicase.knowledge.deflection.repository import SuggestionRecord, SuggestionRepository
from omnicase.knowledge.deflection.schemas import (
    ArticleSuggestions,
    CaseArticleSuggestions,
    CaseSuggestedArticle,
    CustomerSuggestion,
    Deflection,
    SuggestedArticle,
    SuggestionRequest,
)
from omnicase.knowledge.search.analysis import TextAnalyzer
from omnicase.knowledge.search.service import SearchService
from omnicase.knowledge.search.synonyms import SynonymCache
from omnicase.knowledge.service import SPEC

LINK_CONTEXT = "knowledge.suggestions.link"
# The path segment of the default brand (a null brand) in the help center's addresses.
DEFAULT_BRAND = "default"

Outcome = Literal["solved", "kept-open", "answered-before"]


def brand_segment(brand: str | None) -> str:
    return DEFAULT_BRAND if brand is None else brand


def brand_of(segment: str) -> str | None:
    return None if segment == DEFAULT_BRAND else segment


def solved_reason(article_id: uuid.UUID) -> str:
    """What the case's history shows for a case the customer solved with an article."""
    return f"answered by article {article_id}"


@dataclass(frozen=True)
class Links:
    """How links to the help center are made: its public address and the suite's sealer."""

    public_base_url: str
    sealer: Sealer

    def article(self, brand: str | None, locale: str, article_id: uuid.UUID, suggestion_id: uuid.UUID) -> str:
        """The article's page opened from a suggestion (its Yes and No answer for the case)."""
        token = self.sealer.seal(str(suggestion_id), LINK_CONTEXT)
        return f"{self.page(brand, locale, article_id)}?s={quote(token, safe='')}"

    def page(self, brand: str | None, locale: str, article_id: uuid.UUID) -> str:
        """The article's page in the help center."""
        path = f"/public/help/{quote(brand_segment(brand), safe='')}/{locale}/articles/{article_id}"
        return f"{self.public_base_url.rstrip('/')}{path}"

    def attachment(self, brand: str | None, article_id: uuid.UUID, sha256: str) -> str:
        """An article's file in the help center (while the article is published)."""
        path = f"/public/help/{quote(brand_segment(brand), safe='')}/articles/{article_id}/attachments/{sha256}"
        return f"{self.public_base_url.rstrip('/')}{path}"

    def suggestion_of(self, token: str) -> uuid.UUID | None:
        try:
            return uuid.UUID(self.sealer.open(token, LINK_CONTEXT))
        except (SealingError, ValueError):
            return None


def _customer(record: SuggestionRecord | None) -> CustomerSuggestion | None:
    if record is None:
        return None
    answer = "yes" if record.answer == "yes" else "no" if record.answer == "no" else None
    return CustomerSuggestion(suggested_at=record.suggested_at, opened_at=record.opened_at, answer=answer)


class DeflectionService:
    def __init__(
        self,
        session: AsyncSession,
        outbox: Outbox,
        analyzer: TextAnalyzer,
        synonyms: SynonymCache,
        links: Links,
        desk: CaseDesk,
    ) -> None:
        self.session = session
        self.outbox = outbox
        self.search = SearchService(session, analyzer, synonyms)
        self.repository = SuggestionRepository(session)
        self.case_links = ArticleCaseRepository(session)
        self.stored = CaseSuggestionRepository(session)
        self.links = links
        self.desk = desk

    async def suggest(self, request: SuggestionRequest) -> ArticleSuggestions:
        """Up to ``limit`` published articles of the case's brand in the question's language, recorded."""
        _, picked = await pick(self.search, request.subject, request.text, request.locale, request.brand, request.limit)
        now = utcnow()
        items: list[SuggestedArticle] = []
        for choice in picked:
            row, matched = choice.row, choice.matched
            suggestion_id = uuid7()
            items.append(
                SuggestedArticle(
                    id=suggestion_id,
                    article_id=row.article_id,
                    locale=row.locale,
                    title=row.title,
                    score=round(row.score, 6),
                    matched=matched,
                    url=self.links.article(request.brand, row.locale, row.article_id, suggestion_id),
                )
            )
        await self.repository.insert(
            [
                {
                    "id": item.id,
                    "case_id": request.case_id,
                    "article_id": item.article_id,
                    "locale": item.locale,
                    "score": item.score,
                    "matched": item.matched,
                    "suggested_at": now,
                }
                for item in items
            ]
        )
        # knowledge.events tell of cases: a question not a case yet (a chat the widget holds back) is counted
        # in the suggestions table alone.
        for item in items if request.case_id is not None else ():
            suggested = ArticleSuggested(
                suggestion_id=item.id,
                article_id=item.article_id,
                case_id=request.case_id,
                locale=item.locale,
                brand=request.brand,
                score=item.score,
                suggested_at=now,
            )
            await self._publish(suggested, item.article_id)
        return ArticleSuggestions(items=items)

    async def for_case(self, case_id: uuid.UUID, limit: int) -> CaseArticleSuggestions:
        """Up to ``limit`` articles for the case as its agent sees them: those its customer was sent (with
        what they did with each), else those stored when it was created, else chosen now from its subject
        and first message, in its language (recorded nowhere)."""
        sent = await self.repository.of_case(case_id)
        if sent:
            return await self._sent(case_id, sent, limit)
        stored = await self.stored.of_case(case_id)
        if stored:
            return await self._stored(case_id, stored[:limit])
        try:
            case = await self.desk.case(case_id, max_messages=1)
        except PeerUnavailable as error:
            raise ServiceUnavailable(f"The case could not be read now: {error}") from error
        if case is None:
            raise CaseNotFound(f"Case {case_id} does not exist.")
        locale, picked = await pick(self.search, case.subject, case.question, case.locale, case.brand, limit)
        items = [
            CaseSuggestedArticle(
                article_id=item.row.article_id,
                locale=item.row.locale,
                title=item.row.title,
                score=round(item.row.score, 6),
                matched=item.matched,
                url=self.links.page(case.brand, item.row.locale, item.row.article_id),
                customer=None,
            )
            for item in picked
        ]
        return CaseArticleSuggestions(case_id=case_id, locale=locale, origin="computed", suggested_at=None, items=items)

    async def _sent(self, case_id: uuid.UUID, sent: list[SuggestionRecord], limit: int) -> CaseArticleSuggestions:
        """The articles the case's customer was sent (each once, as first sent), best first within a sending."""
        first: dict[uuid.UUID, SuggestionRecord] = {}
        for record in sorted(sent, key=lambda r: (r.suggested_at, -r.score)):
            first.setdefault(record.article_id, record)
        chosen = list(first.values())[:limit]
        items = await self._as_shown([(record, _customer(record)) for record in chosen])
        return CaseArticleSuggestions(
            case_id=case_id, locale=chosen[0].locale, origin="sent", suggested_at=chosen[0].suggested_at, items=items
        )

    async def _stored(self, case_id: uuid.UUID, stored: list[StoredSuggestion]) -> CaseArticleSuggestions:
        """The articles stored for the case when it was created."""
        items = await self._as_shown([(row, None) for row in stored])
        return CaseArticleSuggestions(
            case_id=case_id,
            locale=stored[0].read_locale,
            origin="stored",
            suggested_at=stored[0].suggested_at,
            items=items,
        )

    async def _as_shown(
        self, kept: list[tuple[SuggestionRecord | StoredSuggestion, CustomerSuggestion | None]]
    ) -> list[CaseSuggestedArticle]:
        """Suggestions kept for a case as an agent sees them, with their translations' titles as they are now."""
        titles = await self.stored.titles((row.article_id, row.locale) for row, _ in kept)
        return [
            CaseSuggestedArticle(
                article_id=row.article_id,
                locale=row.locale,
                title=title.title,
                score=row.score,
                matched=row.matched,
                url=self.links.page(title.brand, row.locale, row.article_id),
                customer=customer,
            )
            for row, customer in kept
            if (title := titles.get((row.article_id, row.locale))) is not None
        ]

    async def opened(self, token: str | None, article_id: uuid.UUID) -> SuggestionRecord | None:
        """The suggestion a help-center link's token names (counted opened), or None: no such link for it."""
        suggestion = await self._suggestion(token, article_id)
        if suggestion is not None and suggestion.opened_at is None:
            await self.repository.opened(suggestion.id, utcnow())
        return suggestion

    async def answer(self, token: str | None, article_id: uuid.UUID, answered: bool) -> Outcome | None:
        """The customer's answer to "did this answer your question?"; None: the token names no suggestion
        of this article. Yes asks case-core to solve the case; each link answers once."""
        suggestion = await self._suggestion(token, article_id)
        if suggestion is None:
            return None
        recorded = await self.repository.answer(suggestion.id, "yes" if answered else "no", utcnow())
        if recorded is None:
            return "answered-before"
        if recorded.case_id is None:
            # A chat question the visitor settled before it became a case: counted here, nothing to solve.
            return "solved" if answered else "kept-open"
        answered_at = recorded.answered_at or utcnow()
        outcome = ArticleAnswered(
            suggestion_id=recorded.id,
            article_id=recorded.article_id,
            case_id=recorded.case_id,
            locale=recorded.locale,
            outcome="solved" if answered else "not_solved",
            opened_at=recorded.opened_at or answered_at,
            answered_at=answered_at,
        )
        await self._publish(outcome, recorded.article_id)
        if not answered:
            return "kept-open"
        await self.case_links.link(
            recorded.article_id, recorded.case_id, "solved", "customer", recorded.answered_at or utcnow()
        )
        command = SetCaseStatus(
            case_id=recorded.case_id, status=CaseStatus.SOLVED, reason=solved_reason(recorded.article_id)
        )
        await self.outbox.add(
            self.session, command, source=SPEC.name, subject=str(recorded.case_id), key=str(recorded.case_id)
        )
        return "solved"

    async def _publish(self, data: ArticleSuggested | ArticleAnswered, article_id: uuid.UUID) -> None:
        """Stage ``data`` on knowledge.events (key: the article) in this transaction."""
        await self.outbox.add(self.session, data, source=SPEC.name, subject=str(article_id), key=str(article_id))

    async def deflection(self, article_id: uuid.UUID) -> Deflection:
        suggested, opened, solved = await self.repository.counts(article_id)
        return Deflection(article_id=article_id, suggested=suggested, opened=opened, solved=solved)

    async def _suggestion(self, token: str | None, article_id: uuid.UUID) -> SuggestionRecord | None:
        suggestion_id = self.links.suggestion_of(token) if token else None
        if suggestion_id is None:
            return None
        suggestion = await self.repository.get(suggestion_id)
        return suggestion if suggestion is not None and suggestion.article_id == article_id else None
