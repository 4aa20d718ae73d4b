"""FastAPI dependencies knowledge's routes share."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from omnicase.kit.app import Runtime
from omnicase.kit.db import SessionDep
from omnicase.knowledge.articles.service import ArticleService


def _article_service(request: Request, session: SessionDep) -> ArticleService:
    runtime: Runtime[Any, Any] = request.app.state.runtime
    return ArticleService(session, runtime.outbox)


# The same request session as SessionDep (FastAPI caches a dependency per request).
ArticlesDep = Annotated[ArticleService, Depends(_article_service)]
