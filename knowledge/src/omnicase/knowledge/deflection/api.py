"""Routes of /api/v1/kb/suggestions and an article's deflection counts."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from omnicase.kit.errors import ServiceUnavailable, ValidationFailed, problem_responses
from omnicase.kit.identity import area_access
from omnicase.knowledge.articles.service import ArticleNotFound
from omnicase.knowledge.capture.desk import CaseNotFound
from omnicase.knowledge.deflection.schemas import (
    MAX_SUGGESTIONS,
    ArticleSuggestions,
    CaseArticleSuggestions,
    Deflection,
    SuggestionRequest,
)
from omnicase.knowledge.deps import ArticlesDep, DeflectionDep

router = APIRouter(prefix="/api/v1/kb", tags=["kb-deflection"], dependencies=[Depends(area_access("knowledge"))])


@router.post(
    "/suggestions",
    operation_id="create_kb_suggestions",
    status_code=status.HTTP_201_CREATED,
    summary="Suggest up to 3 published articles for a case's question, each with its help-center link (recorded)",
    responses=problem_responses(ValidationFailed),
)
async def suggest_articles(payload: SuggestionRequest, deflection: DeflectionDep) -> ArticleSuggestions:
    return await deflection.suggest(payload)


@router.get(
    "/articles/{article_id}/deflection",
    operation_id="get_kb_article_deflection",
    summary="How often the article was suggested, opened from a suggestion, and solved the customer's case",
    responses=problem_responses(ArticleNotFound),
)
async def get_article_deflection(article_id: uuid.UUID, articles: ArticlesDep, deflection: DeflectionDep) -> Deflection:
    await articles.get(article_id)
    return await deflection.deflection(article_id)


case_router = APIRouter(
    prefix="/api/v1/cases/{case_id}/article-suggestions",
    tags=["kb-deflection"],
    dependencies=[Depends(area_access("knowledge"))],
)


@case_router.get(
    "",
    operation_id="list_case_article_suggestions",
    summary="Published articles that may answer a case, for its agent, with what its customer did with those sent",
    description="Read from the case's subject and first message (case-core), in the case's language (else the "
    "question's, detected); the case's brand only. Nothing is recorded: deflection counts what customers were sent.",
    responses=problem_responses(CaseNotFound, ServiceUnavailable),
)
async def list_case_article_suggestions(
    case_id: uuid.UUID,
    deflection: DeflectionDep,
    limit: Annotated[
        int, Query(ge=1, le=MAX_SUGGESTIONS, description="How many articles, at most 3.")
    ] = MAX_SUGGESTIONS,
) -> CaseArticleSuggestions:
    return await deflection.for_case(case_id, limit)
