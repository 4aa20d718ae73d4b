"""One blob store for the whole suite: file bytes by their sha256, the same for every service.

A service stores an attachment once (``put``) and names it by digest in its rows and
events (:class:`~omnicase.kit.events.AttachmentRef`); any service reads it back by that
digest (``get``): intake-email sends what an agent attached in case-core, case-core opens
what a customer sent through intake-web. Two backends, picked by ``OMNICASE_BLOB_STORE``:

- ``postgres`` (the embedded default): the ``omnicase_blobs`` schema of the suite's
  database, which belongs to the store, not to any service (``omnicase migrate`` creates
  it), written in a short transaction of its own;
- ``s3``: an S3-compatible bucket (:mod:`omnicase.kit.s3`), object key = digest.

Blobs are written before the rows that name them commit, so a crash in between leaves a
stored blob nothing names, never a row naming a missing blob. Storing the same bytes twice
keeps one copy.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import BigInteger, Column, DateTime, LargeBinary, MetaData, String, Table, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from omnicase.kit.clock import utcnow
from omnicase.kit.db import Database
from omnicase.kit.settings import ServiceSettings

BLOB_SCHEMA = "omnicase_blobs"

blobs = Table(
    "blobs",
    MetaData(schema=BLOB_SCHEMA),
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class BlobStore(ABC):
    @abstractmethod
    async def put_many(self, contents: Sequence[bytes]) -> list[str]:
        """Store each of ``contents`` (idempotent); their sha256 hex digests, in order."""

    @abstractmethod
    async def get(self, sha256: str) -> bytes | None:
        """The bytes stored under ``sha256``, or None."""

    async def put(self, content: bytes) -> str:
        return (await self.put_many([content]))[0]

    @abstractmethod
    async def ping(self) -> None:
        """Raise if the store cannot be reached (readiness)."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections (at shutdown)."""


class PostgresBlobStore(BlobStore):
    """Rows of ``omnicase_blobs.blobs``, each call on a connection of its own, closed after it:
    files are few and large, written outside the caller's transaction, and a store opened by
    an app that never starts (a test's) holds nothing open."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def put_many(self, contents: Sequence[bytes]) -> list[str]:
        digests = [digest(content) for content in contents]
        unique = dict(zip(digests, contents, strict=True))
        if unique:
            now = utcnow()
            # Rows in digest order: transactions storing the same files never deadlock.
            rows = [
                {"sha256": key, "size": len(unique[key]), "content": unique[key], "created_at": now}
                for key in sorted(unique)
            ]
            async with self.engine.begin() as connection:
                await connection.execute(insert(blobs).on_conflict_do_nothing(index_elements=["sha256"]), rows)
        return digests

    async def get(self, sha256: str) -> bytes | None:
        async with self.engine.connect() as connection:
            content: bytes | None = await connection.scalar(select(blobs.c.content).where(blobs.c.sha256 == sha256))
        return content

    async def ping(self) -> None:
        await Database(self.engine).ping()

    async def close(self) -> None:
        await self.engine.dispose()


def current_blobs(request: Request) -> BlobStore:
    store: BlobStore = request.app.state.blobs
    return store


BlobsDep = Annotated[BlobStore, Depends(current_blobs)]


def open_blob_store(settings: ServiceSettings, application_name: str = "omnicase") -> BlobStore:
    """The store the settings name (nothing connects before the first use)."""
    if settings.blob_store == "s3":
        from omnicase.kit.s3 import S3BlobStore

        return S3BlobStore(
            settings.blob_s3_endpoint,
            settings.blob_s3_bucket,
            settings.blob_s3_region,
            settings.blob_s3_access_key,
            settings.blob_s3_secret_key,
        )
    engine = create_async_engine(
        settings.database_url,
        poolclass=NullPool,
        connect_args={"server_settings": {"application_name": f"{application_name}-blobs"}},
    )
    return PostgresBlobStore(engine)
