"""Routes of /api/v1/kb/articles/{id}/attachments (staff) and the help center's files (public)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Request, Response, status

from omnicase.kit.blobs import BlobsDep
from omnicase.kit.errors import (
    BadRequest,
    FieldError,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    problem_responses,
)
from omnicase.kit.identity import CurrentIdentity, area_access
from omnicase.kit.uploads import (
    download_response,
    files_request_body,
    publish_attachment_limit,
    read_message_body,
    store_uploads,
)
from omnicase.knowledge.articles.service import ArticleIsArchived, ArticleNotFound
from omnicase.knowledge.attachments.schemas import ArticleAttachments, AttachmentUpload
from omnicase.knowledge.attachments.service import ArticleAttachmentNotFound
from omnicase.knowledge.deflection.service import brand_of
from omnicase.knowledge.deps import AttachmentsDep
from omnicase.knowledge.state import KnowledgeRuntime

PATH = "/api/v1/kb/articles/{article_id}/attachments"
router = APIRouter(prefix=PATH, tags=["kb-articles"], dependencies=[Depends(area_access("knowledge"))])
public_router = APIRouter(prefix="/public/help", tags=["help-center"])

Sha256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="The file's sha256.")]
_DOWNLOAD: dict[int | str, dict[str, Any]] = {
    200: {"description": "The file, with its recorded Content-Type.", "content": {"application/octet-stream": {}}}
}


def publish_upload_limit(app: FastAPI, most: int) -> None:
    """The files one upload takes, at most ``KNOWLEDGE_MAX_ATTACHMENTS_PER_UPLOAD`` (kit.uploads)."""
    publish_attachment_limit(app, PATH, most)


@router.post(
    "",
    operation_id="add_kb_article_attachments",
    summary="Attach files to an article (multipart/form-data, files in `attachments`)",
    status_code=status.HTTP_201_CREATED,
    openapi_extra={"requestBody": files_request_body()},
    responses=problem_responses(
        BadRequest, ArticleNotFound, ArticleIsArchived, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
    ),
)
async def add_article_attachments(
    article_id: uuid.UUID,
    request: Request,
    attachments: AttachmentsDep,
    blobs: BlobsDep,
    identity: CurrentIdentity,
) -> ArticleAttachments:
    runtime: KnowledgeRuntime = request.app.state.runtime
    settings = runtime.settings
    _, files = await read_message_body(
        request,
        AttachmentUpload,
        max_file_bytes=settings.max_attachment_bytes,
        max_files=settings.max_attachments_per_upload,
        title="The upload is not valid.",
    )
    if not files:
        missing = FieldError(field="body.attachments", message="at least one file", code="missing")
        raise ValidationFailed("The upload has no file.", errors=[missing])
    brand = await attachments.writable(article_id)
    # Stored before the rows naming them commit: a crash between leaves bytes nothing names, never the reverse.
    refs = await store_uploads(blobs, files)
    return ArticleAttachments(items=await attachments.add(article_id, brand, refs, identity))


@router.get(
    "",
    operation_id="list_kb_article_attachments",
    summary="An article's files, oldest first",
    responses=problem_responses(ArticleNotFound),
)
async def list_article_attachments(article_id: uuid.UUID, attachments: AttachmentsDep) -> ArticleAttachments:
    return ArticleAttachments(items=await attachments.list(article_id))


@router.get(
    "/{sha256}",
    operation_id="download_kb_article_attachment",
    summary="Download an article's file",
    response_class=Response,
    responses={**_DOWNLOAD, **problem_responses(ArticleNotFound, ArticleAttachmentNotFound)},
)
async def download_article_attachment(
    article_id: uuid.UUID, sha256: Sha256, attachments: AttachmentsDep, blobs: BlobsDep
) -> Response:
    record = await attachments.get(article_id, sha256)
    content = await blobs.get(sha256)
    if content is None:
        raise ArticleAttachmentNotFound(f"The bytes of attachment {sha256} are no longer available.")
    return download_response(content, record.filename, record.content_type)


@router.delete(
    "/{sha256}",
    operation_id="delete_kb_article_attachment",
    summary="Remove a file from an article",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(ArticleNotFound, ArticleIsArchived, ArticleAttachmentNotFound),
)
async def delete_article_attachment(article_id: uuid.UUID, sha256: Sha256, attachments: AttachmentsDep) -> None:
    await attachments.delete(article_id, sha256)


@public_router.get(
    "/{brand}/articles/{article_id}/attachments/{sha256}",
    operation_id="download_help_article_attachment",
    summary="A published article's file, for its readers (links and images in its body)",
    response_class=Response,
    responses={**_DOWNLOAD, **problem_responses(ArticleAttachmentNotFound)},
)
async def download_help_article_attachment(
    brand: str, article_id: uuid.UUID, sha256: Sha256, attachments: AttachmentsDep, blobs: BlobsDep
) -> Response:
    """Only while a translation of the article is published in ``brand`` (never a draft's or an archived one's)."""
    record = await attachments.published(brand_of(brand), article_id, sha256)
    content = await blobs.get(sha256) if record is not None else None
    if record is None or content is None:
        raise ArticleAttachmentNotFound(f"No published article {article_id} of {brand} has the file {sha256}.")
    return download_response(content, record.filename, record.content_type)
