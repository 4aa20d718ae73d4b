"""Content-addressed storage of attachment bytes behind a small interface.

:class:`BlobStore` is what the rest of the service uses; :class:`PostgresBlobStore`
is the embedded default (rows in ``intake_email.blobs``, written in the caller's
transaction so an attachment is stored exactly when its message is). An S3-compatible
store would implement the same two methods.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_email.models import blobs
from omnicase.kit.clock import utcnow


class BlobStore(Protocol):
    async def put(self, session: AsyncSession, content: bytes) -> str:
        """Store ``content`` (idempotent); returns its sha256 hex digest."""
        ...

    async def put_many(self, session: AsyncSession, contents: list[bytes]) -> list[str]:
        """Store each of ``contents`` (idempotent); their sha256 hex digests, in order."""
        ...

    async def get(self, session: AsyncSession, sha256: str) -> bytes | None: ...


class PostgresBlobStore:
    async def put(self, session: AsyncSession, content: bytes) -> str:
        digest = hashlib.sha256(content).hexdigest()
        await session.execute(
            insert(blobs)
            .values(sha256=digest, size=len(content), content=content, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["sha256"])
        )
        return digest

    async def put_many(self, session: AsyncSession, contents: list[bytes]) -> list[str]:
        digests = [hashlib.sha256(content).hexdigest() for content in contents]
        unique = dict(zip(digests, contents, strict=True))
        if unique:
            now = utcnow()
            # One statement, rows in digest order: transactions storing the same files never deadlock.
            rows = [
                {"sha256": digest, "size": len(unique[digest]), "content": unique[digest], "created_at": now}
                for digest in sorted(unique)
            ]
            await session.execute(insert(blobs).on_conflict_do_nothing(index_elements=["sha256"]), rows)
        return digests

    async def get(self, session: AsyncSession, sha256: str) -> bytes | None:
        content: bytes | None = await session.scalar(select(blobs.c.content).where(blobs.c.sha256 == sha256))
        return content
