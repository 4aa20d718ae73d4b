"""Routes of knowledge captured from cases: /api/v1/kb/articles/from-case/{case_id}, /articles/{id}/cases."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, status

from omnicase.kit.errors import ServiceUnavailable, problem_responses
from omnicase.kit.identity import CurrentIdentity, area_access
from omnicase.kit.pagination import InvalidCursor, LimitQuery, Page, cursor_query
from omnicase.knowledge.articles.schemas import Article
from omnicase.knowledge.articles.service import ArticleNotFound
from omnicase.knowledge.capture.desk import CaseNotFound
from omnicase.knowledge.capture.schemas import ArticleAttach, ArticleCase, AttachedArticle, CaseCapture
from omnicase.knowledge.capture.service import ArticleNotPublished, CaseNotAnswered
from omnicase.knowledge.deps import CaptureDep

router = APIRouter(prefix="/api/v1/kb/articles", tags=["kb-articles"], dependencies=[Depends(area_access("knowledge"))])


@router.post(
    "/from-case/{case_id}",
    status_code=status.HTTP_201_CREATED,
    operation_id="create_kb_article_from_case",
    summary="Draft an article from a solved case: its question, its answer and a swarm's outcome",
    responses=problem_responses(CaseNotFound, CaseNotAnswered, ServiceUnavailable),
)
async def create_article_from_case(
    case_id: uuid.UUID, capture: CaptureDep, identity: CurrentIdentity, payload: CaseCapture | None = None
) -> Article:
    return await capture.from_case(case_id, identity, payload or CaseCapture())


@router.post(
    "/{article_id}/cases",
    status_code=status.HTTP_201_CREATED,
    operation_id="attach_kb_article_to_case",
    summary="Attach the article to a reply on a case: its help-center link, the case linked (`attached`)",
    responses=problem_responses(ArticleNotFound, ArticleNotPublished),
)
async def attach_article_to_case(
    article_id: uuid.UUID, body: ArticleAttach, capture: CaptureDep, identity: CurrentIdentity
) -> AttachedArticle:
    """For the service sending the reply (case-core) or an integration writing it: the reply carries ``url``."""
    return await capture.attach(article_id, body, identity)


@router.get(
    "/{article_id}/cases",
    operation_id="list_kb_article_cases",
    summary="The cases the article was captured from or solved",
    responses=problem_responses(ArticleNotFound, InvalidCursor),
)
async def list_article_cases(
    article_id: uuid.UUID,
    capture: CaptureDep,
    limit: LimitQuery = 50,
    cursor: Annotated[str | None, cursor_query(uuid.UUID, str)] = None,
) -> Page[ArticleCase]:
    return await capture.cases(article_id, cursor, limit)
