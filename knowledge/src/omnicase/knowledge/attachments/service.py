"""An article's files: bytes in the suite's blob store, rows here; staff upload, list, download and
delete them; the help center serves them while a translation of the article is published."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.clock import utcnow
from omnicase.kit.errors import NotFound
from omnicase.kit.events import AttachmentRef
from omnicase.kit.identity import Identity
from omnicase.knowledge.articles.service import ArticleIsArchived, ArticleService
from omnicase.knowledge.attachments.repository import AttachmentRecord, AttachmentRepository
from omnicase.knowledge.attachments.schemas import ArticleAttachment
from omnicase.knowledge.deflection.service import Links


class ArticleAttachmentNotFound(NotFound):
    slug, title = "attachment-not-found", "Attachment not found"


def _missing(article_id: uuid.UUID, sha256: str) -> ArticleAttachmentNotFound:
    return ArticleAttachmentNotFound(f"Article {article_id} has no attachment {sha256}.")


class AttachmentService:
    def __init__(self, session: AsyncSession, articles: ArticleService, links: Links) -> None:
        self.repository = AttachmentRepository(session)
        self.articles = articles
        self.links = links

    async def writable(self, article_id: uuid.UUID) -> str | None:
        """The article's brand; a 404 for no such article, a 409 for an archived one (before files are stored)."""
        article = await self.articles.get(article_id)
        if article.archived_at is not None:
            raise ArticleIsArchived(f"Article {article_id} is archived; it can no longer be changed.")
        return article.brand

    async def add(
        self, article_id: uuid.UUID, brand: str | None, files: list[AttachmentRef], author: Identity
    ) -> list[ArticleAttachment]:
        """Name the stored files on the article (the same bytes again: the new name)."""
        now = utcnow()
        await self.repository.upsert(
            [
                {
                    "article_id": article_id,
                    "sha256": ref.sha256,
                    "filename": ref.filename,
                    "content_type": ref.content_type,
                    "size": ref.size,
                    "uploaded_by": author.subject,
                    "uploaded_at": now,
                }
                for ref in files
            ]
        )
        added = {ref.sha256 for ref in files}
        return [
            self._view(brand, record)
            for record in await self.repository.of_article(article_id)
            if record.sha256 in added
        ]

    async def list(self, article_id: uuid.UUID) -> list[ArticleAttachment]:
        article = await self.articles.get(article_id)
        return [self._view(article.brand, record) for record in await self.repository.of_article(article_id)]

    async def get(self, article_id: uuid.UUID, sha256: str) -> AttachmentRecord:
        await self.articles.get(article_id)
        return await self._found(article_id, sha256)

    async def delete(self, article_id: uuid.UUID, sha256: str) -> None:
        """Unname the file (its bytes stay in the blob store, shared by whatever else names them)."""
        await self.writable(article_id)
        if not await self.repository.delete(article_id, sha256):
            raise _missing(article_id, sha256)

    async def published(self, brand: str | None, article_id: uuid.UUID, sha256: str) -> AttachmentRecord | None:
        """The file of an article ``brand`` publishes, else None."""
        return await self.repository.published_file(brand, article_id, sha256)

    async def _found(self, article_id: uuid.UUID, sha256: str) -> AttachmentRecord:
        record = await self.repository.get(article_id, sha256)
        if record is None:
            raise _missing(article_id, sha256)
        return record

    def _view(self, brand: str | None, record: AttachmentRecord) -> ArticleAttachment:
        return ArticleAttachment(
            article_id=record.article_id,
            sha256=record.sha256,
            filename=record.filename,
            content_type=record.content_type,
            size=record.size,
            uploaded_by=record.uploaded_by,
            uploaded_at=record.uploaded_at,
            url=f"/api/v1/kb/articles/{record.article_id}/attachments/{record.sha256}",
            public_url=self.links.attachment(brand, record.article_id, record.sha256),
        )
