"""Routes of /api/v1/kb/articles."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from omnicase.kit.errors import (
    ServiceUnavailable,
    StateConflict,
    UnknownReference,
    ValidationFailed,
    problem_responses,
)
from omnicase.kit.identity import CurrentIdentity, area_access
from omnicase.kit.pagination import CursorQuery, InvalidCursor, LimitQuery, Page
from omnicase.knowledge.articles.repository import ArticleFilter
from omnicase.knowledge.articles.schemas import (
    Article,
    ArticleCreate,
    ArticleUpdate,
    ArticleVersion,
    Label,
    TranslationStatus,
    TranslationWrite,
)
from omnicase.knowledge.articles.service import ArticleIsArchived, ArticleNotFound
from omnicase.knowledge.deps import ArticlesDep
from omnicase.knowledge.locales import Locale
from omnicase.knowledge.sections.schemas import Brand

router = APIRouter(prefix="/api/v1/kb/articles", tags=["kb-articles"], dependencies=[Depends(area_access("knowledge"))])

LocalePath = Annotated[Locale, Path(description="The translation's locale, such as `en`, `ko` or `zh-CN`.")]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    operation_id="create_kb_article",
    summary="Create an article with its first translation",
    responses=problem_responses(ValidationFailed, UnknownReference, StateConflict, ServiceUnavailable),
)
async def create_article(payload: ArticleCreate, articles: ArticlesDep, identity: CurrentIdentity) -> Article:
    return await articles.create(payload, identity)


@router.get(
    "",
    operation_id="list_kb_articles",
    summary="List articles (drafts included) in the order they were created",
    responses=problem_responses(InvalidCursor),
)
async def list_articles(
    articles: ArticlesDep,
    brand: Annotated[Brand | None, Query()] = None,
    section_id: uuid.UUID | None = None,
    locale: Annotated[Locale | None, Query(description="Only articles translated into this locale.")] = None,
    status: Annotated[TranslationStatus | None, Query(description="Only articles with a translation in it.")] = None,
    label: Annotated[Label | None, Query()] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[Article]:
    where = ArticleFilter(brand=brand, section_id=section_id, locale=locale, status=status, label=label)
    return await articles.page(where, cursor, limit)


@router.get(
    "/{article_id}",
    operation_id="get_kb_article",
    summary="Get an article with every translation",
    responses=problem_responses(ArticleNotFound),
)
async def get_article(article_id: uuid.UUID, articles: ArticlesDep) -> Article:
    return await articles.get(article_id)


@router.patch(
    "/{article_id}",
    operation_id="update_kb_article",
    summary="Move an article to another section of its brand (or none), or relabel it",
    responses=problem_responses(ArticleNotFound, ValidationFailed, UnknownReference, ArticleIsArchived, StateConflict),
)
async def update_article(article_id: uuid.UUID, payload: ArticleUpdate, articles: ArticlesDep) -> Article:
    return await articles.update(article_id, payload)


@router.put(
    "/{article_id}/translations/{locale}",
    operation_id="replace_kb_article_translation",
    summary="Create or replace one translation (published: a new version)",
    responses=problem_responses(ArticleNotFound, ValidationFailed, ArticleIsArchived),
)
async def put_translation(
    article_id: uuid.UUID,
    locale: LocalePath,
    payload: TranslationWrite,
    articles: ArticlesDep,
    identity: CurrentIdentity,
) -> Article:
    return await articles.put_translation(article_id, locale, payload, identity)


@router.post(
    "/{article_id}/archive",
    operation_id="archive_kb_article",
    summary="Archive an article and every translation (nothing more can change)",
    responses=problem_responses(ArticleNotFound, ArticleIsArchived),
)
async def archive_article(article_id: uuid.UUID, articles: ArticlesDep, identity: CurrentIdentity) -> Article:
    return await articles.archive(article_id, identity)


@router.get(
    "/{article_id}/versions",
    operation_id="list_kb_article_versions",
    summary="List an article's published versions, newest first",
    responses=problem_responses(ArticleNotFound, InvalidCursor),
)
async def list_versions(
    article_id: uuid.UUID,
    articles: ArticlesDep,
    locale: Annotated[Locale | None, Query()] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[ArticleVersion]:
    return await articles.versions(article_id, locale, cursor, limit)
