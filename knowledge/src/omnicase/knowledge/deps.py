"""FastAPI dependencies knowledge's routes share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from omnicase.kit.db import SessionDep
from omnicase.knowledge.articles.service import ArticleService
from omnicase.knowledge.attachments.service import AttachmentService
from omnicase.knowledge.capture.service import CaptureService
from omnicase.knowledge.deflection.service import DeflectionService
from omnicase.knowledge.state import KnowledgeRuntime, StateDep


def _article_service(request: Request, session: SessionDep, state: StateDep) -> ArticleService:
    runtime: KnowledgeRuntime = request.app.state.runtime
    return ArticleService(session, runtime.outbox, state.analyzer, brands=state.brands)


# The same request session as SessionDep (FastAPI caches a dependency per request).
ArticlesDep = Annotated[ArticleService, Depends(_article_service)]


def _deflection_service(request: Request, session: SessionDep, state: StateDep) -> DeflectionService:
    runtime: KnowledgeRuntime = request.app.state.runtime
    return DeflectionService(session, runtime.outbox, state.analyzer, state.synonyms, state.links, state.desk)


DeflectionDep = Annotated[DeflectionService, Depends(_deflection_service)]


def _capture_service(session: SessionDep, state: StateDep, articles: ArticlesDep) -> CaptureService:
    return CaptureService(session, articles, state.desk, state.links)


CaptureDep = Annotated[CaptureService, Depends(_capture_service)]


def _attachment_service(state: StateDep, session: SessionDep, articles: ArticlesDep) -> AttachmentService:
    return AttachmentService(session, articles, state.links)


AttachmentsDep = Annotated[AttachmentService, Depends(_attachment_service)]
