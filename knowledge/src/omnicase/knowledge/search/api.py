"""Routes of /api/v1/kb/search."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from omnicase.kit.db import SessionDep
from omnicase.kit.errors import ValidationFailed, problem_responses
from omnicase.kit.identity import area_access
from omnicase.kit.pagination import Int32, InvalidCursor, LimitQuery, Page, cursor_query
from omnicase.knowledge.locales import Locale, language_of
from omnicase.knowledge.search.schemas import AnalysedText, Analysis, AnalysisRequest, SearchHit
from omnicase.knowledge.search.service import SearchService
from omnicase.knowledge.sections.schemas import Brand
from omnicase.knowledge.state import StateDep

router = APIRouter(prefix="/api/v1/kb/search", tags=["kb-search"], dependencies=[Depends(area_access("knowledge"))])


@router.get(
    "",
    operation_id="search_kb_articles",
    summary="Search articles, best first (drafts included)",
    responses=problem_responses(InvalidCursor),
)
async def search_articles(
    session: SessionDep,
    state: StateDep,
    q: Annotated[str, Query(min_length=1, max_length=500, description="Words, in any language.")],
    locale: Annotated[
        Locale | None,
        Query(description="Only this locale's translations, the query read in its language; left out: detected."),
    ] = None,
    brand: Annotated[Brand | None, Query()] = None,
    limit: LimitQuery = 10,
    cursor: Annotated[str | None, cursor_query(Int32)] = None,
) -> Page[SearchHit]:
    return await SearchService(session, state.analyzer, state.synonyms).search(q, locale, brand, cursor, limit)


analysis_router = APIRouter(
    prefix="/api/v1/kb/analysis", tags=["kb-search"], dependencies=[Depends(area_access("knowledge"))]
)


@analysis_router.post(
    "",
    operation_id="analyse_kb_texts",
    summary="Cut texts into terms as knowledge cuts articles (Korean morphemes, Chinese words, stemming)",
    description="For another service comparing texts the way knowledge searches them (collaboration's "
    "similar solved cases): each text's PostgreSQL configuration and what it parses.",
    responses=problem_responses(ValidationFailed),
)
async def analyse_texts(body: AnalysisRequest, state: StateDep) -> Analysis:
    language = language_of(body.locale)

    def cut() -> list[AnalysedText]:
        terms = [state.analyzer.terms(text, language) for text in body.texts]
        return [AnalysedText(config=term.config, text=term.text) for term in terms]

    # Kiwi and jieba are plain CPU work: off the event loop.
    return Analysis(items=await asyncio.to_thread(cut))
