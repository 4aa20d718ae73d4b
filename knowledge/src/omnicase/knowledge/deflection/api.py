"""Routes of /api/v1/kb/suggestions and an article's deflection counts."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, status

from omnicase.kit.errors import ValidationFailed, problem_responses
from omnicase.kit.identity import area_access
from omnicase.knowledge.articles.service import ArticleNotFound
from omnicase.knowledge.deflection.schemas import ArticleSuggestions, Deflection, SuggestionRequest
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
