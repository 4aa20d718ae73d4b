"""Every query on articles' files."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from omnicase.kit.repository import Repository
from omnicase.knowledge.articles.schemas import TranslationStatus
from omnicase.knowledge.models import article_attachments, translations


@dataclass(frozen=True)
class AttachmentRecord:
    article_id: uuid.UUID
    sha256: str
    filename: str
    content_type: str
    size: int
    uploaded_by: str
    uploaded_at: datetime


_COLUMNS = [article_attachments.c[name] for name in AttachmentRecord.__dataclass_fields__]


def _record(row: Any) -> AttachmentRecord:
    return AttachmentRecord(**row._mapping)


class AttachmentRepository(Repository):
    async def upsert(self, rows: list[dict[str, Any]]) -> None:
        """Add the files; the same bytes again on the article take the new name and type."""
        if not rows:
            return
        # The same bytes twice in one upload are one row, named as the later one (PostgreSQL
        # refuses to update a row twice in one statement).
        rows = list({(row["article_id"], row["sha256"]): row for row in rows}.values())
        statement = insert(article_attachments).values(rows)
        excluded = statement.excluded
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["article_id", "sha256"],
                set_={name: excluded[name] for name in ("filename", "content_type", "uploaded_by", "uploaded_at")},
            )
        )

    async def of_article(self, article_id: uuid.UUID) -> list[AttachmentRecord]:
        statement = (
            select(*_COLUMNS)
            .where(article_attachments.c.article_id == article_id)
            .order_by(article_attachments.c.uploaded_at, article_attachments.c.sha256)
        )
        return [_record(row) for row in await self.session.execute(statement)]

    async def get(self, article_id: uuid.UUID, sha256: str) -> AttachmentRecord | None:
        statement = select(*_COLUMNS).where(
            article_attachments.c.article_id == article_id, article_attachments.c.sha256 == sha256
        )
        row = (await self.session.execute(statement)).one_or_none()
        return _record(row) if row else None

    async def published_file(self, brand: str | None, article_id: uuid.UUID, sha256: str) -> AttachmentRecord | None:
        """The file, when the article has a translation published in ``brand`` (None: the default brand)."""
        published = (
            select(translations.c.article_id)
            .where(
                translations.c.article_id == article_id,
                translations.c.brand.is_not_distinct_from(brand),
                translations.c.status == TranslationStatus.PUBLISHED.value,
            )
            .exists()
        )
        statement = select(*_COLUMNS).where(
            article_attachments.c.article_id == article_id, article_attachments.c.sha256 == sha256, published
        )
        row = (await self.session.execute(statement)).one_or_none()
        return _record(row) if row else None

    async def delete(self, article_id: uuid.UUID, sha256: str) -> bool:
        deleted = await self.session.execute(
            delete(article_attachments)
            .where(article_attachments.c.article_id == article_id, article_attachments.c.sha256 == sha256)
            .returning(article_attachments.c.sha256)
        )
        return deleted.first() is not None
