"""Articles suggested for a case when it is created, stored for its agents.

A case whose channel asks knowledge for its customer's suggestions (a mailbox's or form's
auto-response, the chat widget's answers first) has those recorded as ``suggestions``; every
other case gets up to three stored here from its ``case.created`` (subject and first message, in
the case's language, else the question's, detected; the case's brand), chosen as the customer's
are (:mod:`omnicase.knowledge.deflection.picking`). A case that has either kind already gets no
more, so redelivered events and a channel that asked first never make a second set.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.clock import utcnow
from omnicase.kit.events import CaseCreated, CaseSnapshot
from omnicase.knowledge.case_suggestions.repository import CaseSuggestionRepository
from omnicase.knowledge.deflection.picking import pick
from omnicase.knowledge.deflection.schemas import MAX_SUGGESTIONS
from omnicase.knowledge.locales import locale_or_none
from omnicase.knowledge.search.analysis import TextAnalyzer
from omnicase.knowledge.search.service import SearchService
from omnicase.knowledge.search.synonyms import SynonymCache


class CaseSuggestionService:
    def __init__(self, analyzer: TextAnalyzer, synonyms: SynonymCache) -> None:
        self.analyzer = analyzer
        self.synonyms = synonyms

    async def on_created(self, session: AsyncSession, created: Sequence[CaseCreated]) -> int:
        """Store the suggestions of the cases ``created`` opened that have none yet; returns how many cases got some."""
        repository = CaseSuggestionRepository(session)
        done = await repository.suggested_cases(event.case.case_id for event in created)
        search = SearchService(session, self.analyzer, self.synonyms)
        # A brand that publishes nothing has no suggestions: its cases' languages are not even detected.
        publishing = {brand: await search.publishes(None, brand) for brand in {_brand(e.case) for e in created}}
        now = utcnow()
        rows = []
        stored = 0
        for event in created:
            case = event.case
            brand = _brand(case)
            if case.case_id in done or not publishing[brand]:
                continue
            done.add(case.case_id)
            locale, picked = await pick(
                search, case.subject, event.description, locale_or_none(case.language), brand, MAX_SUGGESTIONS
            )
            stored += bool(picked)
            rows += [
                {
                    "case_id": case.case_id,
                    "article_id": item.row.article_id,
                    "locale": item.row.locale,
                    "read_locale": locale,
                    "rank": rank,
                    "score": round(item.row.score, 6),
                    "matched": item.matched,
                    "suggested_at": now,
                }
                for rank, item in enumerate(picked, start=1)
            ]
        await repository.insert(rows)
        return stored


def _brand(case: CaseSnapshot) -> str | None:
    """The case's brand when case-core has it (a case may keep a string no brand has), else the default brand."""
    return case.brand if case.brand_id is not None else None
