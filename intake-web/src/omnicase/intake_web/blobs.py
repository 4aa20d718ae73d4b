"""Attachment bytes, content-addressed by sha256, behind a small interface.

The embedded default keeps them in this service's schema, written in the same
transaction as the message that refers to them; an S3-compatible store can take
its place (writes before the message commits leave at worst an unreferenced blob,
harmless because the address is the content).
"""

from __future__ import annotations

import hashlib
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_web.models import blobs


class BlobStore(Protocol):
    async def put(self, data: bytes) -> str:
        """Store ``data`` (idempotently) and return its sha256 hex digest."""
        ...

    async def put_many(self, items: list[bytes]) -> list[str]:
        """Store each of ``items`` (idempotently); their digests, in order."""
        ...

    async def get(self, sha256: str) -> bytes | None: ...


class PostgresBlobStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        await self.session.execute(
            insert(blobs).values(sha256=digest, size=len(data), data=data).on_conflict_do_nothing()
        )
        return digest

    async def put_many(self, items: list[bytes]) -> list[str]:
        digests = [hashlib.sha256(data).hexdigest() for data in items]
        # One statement, rows in digest order: two transactions storing the same files never deadlock.
        rows = dict(zip(digests, items, strict=True))
        if rows:
            values = [{"sha256": digest, "size": len(rows[digest]), "data": rows[digest]} for digest in sorted(rows)]
            await self.session.execute(insert(blobs).on_conflict_do_nothing(), values)
        return digests

    async def get(self, sha256: str) -> bytes | None:
        data: bytes | None = await self.session.scalar(select(blobs.c.data).where(blobs.c.sha256 == sha256))
        return data
