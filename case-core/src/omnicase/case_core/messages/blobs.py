"""Attachment bytes, content-addressed by sha256, behind a small interface.

:class:`PostgresBlobStore` is the embedded default (``bytea`` in case-core's own
schema, written in the caller's transaction so a message and its files commit
together). An S3-compatible store implements the same two methods.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

import httpx
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.models import blobs
from omnicase.case_core.service import SPEC
from omnicase.kit.clock import utcnow
from omnicase.kit.events import Channel
from omnicase.kit.identity import service_identity_headers

# Channels whose messages intake-web receives (forms, SMS, messaging, integrators).
WEB_INTAKE_CHANNELS = (Channel.WEB, Channel.SMS, Channel.MESSAGING, Channel.SOCIAL, Channel.API)


class BlobStore(Protocol):
    async def put(self, session: AsyncSession, data: bytes) -> str:
        """Store ``data``; returns its sha256 (storing the same bytes twice keeps one copy)."""
        ...

    async def get(self, session: AsyncSession, sha256: str) -> bytes | None: ...


class PostgresBlobStore:
    async def put(self, session: AsyncSession, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        await session.execute(
            insert(blobs)
            .values(sha256=digest, size=len(data), data=data, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["sha256"])
        )
        return digest

    async def get(self, session: AsyncSession, sha256: str) -> bytes | None:
        data: bytes | None = await session.scalar(select(blobs.c.data).where(blobs.c.sha256 == sha256))
        return data


class IntakeAttachmentSource:
    """Bytes of inbound attachments, fetched once from the intake that received them.

    An intake stores a message's files in its own schema and sends case-core only
    their :class:`~omnicase.kit.events.AttachmentRef`; intake-email serves the bytes of
    mail, intake-web those of forms and messaging, by sha256, to case-core's service
    identity. The first download copies them into case-core's store (checked against
    their sha256), so later downloads never leave case-core.
    """

    def __init__(self, intake_email_url: str, intake_web_url: str, secret: str, timeout: float = 10.0) -> None:
        email = f"{intake_email_url.rstrip('/')}/api/v1/mailboxes/-/attachments"
        web = f"{intake_web_url.rstrip('/')}/api/v1/channels/-/attachments"
        self.sources: dict[str, str] = {channel.value: web for channel in WEB_INTAKE_CHANNELS}
        self.sources[Channel.EMAIL.value] = email
        self.secret = secret
        self.timeout = timeout

    async def fetch(self, channel: str, sha256: str) -> bytes | None:
        """The bytes, or None if no intake has them; raises ``httpx.HTTPError`` if the intake is unreachable."""
        source = self.sources.get(channel)
        if source is None:
            return None
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            headers = service_identity_headers(self.secret, SPEC.name, frozenset({"cases:read"}))
            response = await client.get(f"{source}/{sha256}", headers=headers)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        content = response.content
        return content if hashlib.sha256(content).hexdigest() == sha256 else None
