"""Every query of the identity domain (users, sessions, refresh tokens, API tokens)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import RowMapping, func, select, text, update

from omnicase.gateway.models import api_tokens, refresh_tokens, sessions, users
from omnicase.kit.ids import uuid7
from omnicase.kit.repository import Repository

# Serialises bootstrap across replicas starting at once (any constant unique to it).
BOOTSTRAP_LOCK_KEY = 0x6F6D6E69_00000001


class UserRepository(Repository):
    async def insert(self, values: dict[str, Any]) -> RowMapping:
        result = await self.session.execute(users.insert().values(**values).returning(users))
        row: RowMapping = result.mappings().one()
        return row

    async def get(self, user_id: uuid.UUID, *, for_update: bool = False) -> RowMapping | None:
        query = select(users).where(users.c.id == user_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).mappings().one_or_none()

    async def by_email(self, email: str, *, for_update: bool = False) -> RowMapping | None:
        query = select(users).where(users.c.email == email)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).mappings().one_or_none()

    async def email_taken(self, email: str, *, other_than: uuid.UUID | None = None) -> bool:
        query = select(users.c.id).where(users.c.email == email)
        if other_than is not None:
            query = query.where(users.c.id != other_than)
        return (await self.session.execute(query.limit(1))).first() is not None

    async def link_taken(self, column: str, value: uuid.UUID, *, other_than: uuid.UUID | None = None) -> bool:
        query = select(users.c.id).where(users.c[column] == value)
        if other_than is not None:
            query = query.where(users.c.id != other_than)
        return (await self.session.execute(query.limit(1))).first() is not None

    async def update(self, user_id: uuid.UUID, values: dict[str, Any]) -> RowMapping:
        result = await self.session.execute(
            update(users).where(users.c.id == user_id).values(**values).returning(users)
        )
        row: RowMapping = result.mappings().one()
        return row

    async def page(
        self, *, after: uuid.UUID | None, limit: int, role: str | None, email: str | None
    ) -> list[RowMapping]:
        query = select(users).order_by(users.c.id).limit(limit)
        if after is not None:
            query = query.where(users.c.id > after)
        if role is not None:
            query = query.where(users.c.role == role)
        if email is not None:
            query = query.where(users.c.email == email)
        return list((await self.session.execute(query)).mappings().all())

    async def active_admins(self) -> int:
        query = select(func.count()).select_from(users).where(users.c.role == "admin", users.c.active.is_(True))
        return int(await self.session.scalar(query) or 0)

    async def lock_bootstrap(self) -> None:
        await self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": BOOTSTRAP_LOCK_KEY})

    async def record_login(self, user_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(
            update(users).where(users.c.id == user_id).values(failed_logins=0, locked_until=None, last_login_at=now)
        )


class SessionRepository(Repository):
    """Login sessions and the refresh tokens of each (one family per session)."""

    async def open(self, session_id: uuid.UUID, user_id: uuid.UUID, scopes: list[str] | None, now: datetime) -> None:
        await self.session.execute(
            sessions.insert().values(id=session_id, user_id=user_id, scopes=scopes, created_at=now)
        )

    async def add_refresh_token(
        self, session_id: uuid.UUID, digest: bytes, now: datetime, expires_at: datetime
    ) -> None:
        await self.session.execute(
            refresh_tokens.insert().values(
                id=uuid7(), session_id=session_id, token_hash=digest, created_at=now, expires_at=expires_at
            )
        )

    async def refresh_token(self, digest: bytes) -> RowMapping | None:
        """The refresh token with its session, row-locked so two exchanges of it serialise."""
        query = (
            select(
                refresh_tokens.c.id,
                refresh_tokens.c.session_id,
                refresh_tokens.c.expires_at,
                refresh_tokens.c.used_at,
                sessions.c.user_id,
                sessions.c.scopes,
                sessions.c.revoked_at,
            )
            .join(sessions, sessions.c.id == refresh_tokens.c.session_id)
            .where(refresh_tokens.c.token_hash == digest)
            .with_for_update(of=refresh_tokens)
        )
        return (await self.session.execute(query)).mappings().one_or_none()

    async def mark_used(self, token_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(update(refresh_tokens).where(refresh_tokens.c.id == token_id).values(used_at=now))

    async def revoke(self, session_id: uuid.UUID, now: datetime, reason: str) -> None:
        await self.session.execute(
            update(sessions)
            .where(sessions.c.id == session_id, sessions.c.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason=reason)
        )

    async def revoke_all_of(
        self, user_id: uuid.UUID, now: datetime, reason: str, *, keep: uuid.UUID | None = None
    ) -> None:
        query = update(sessions).where(sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None))
        if keep is not None:
            query = query.where(sessions.c.id != keep)
        await self.session.execute(query.values(revoked_at=now, revoked_reason=reason))

    async def purge(self, now: datetime, *, keep_revoked: timedelta) -> tuple[int, int]:
        """Delete expired refresh tokens, and logins that are over; (tokens, sessions) deleted.

        A login is over when it was revoked more than ``keep_revoked`` ago (kept that long
        for audits), or when none of its refresh tokens can still be exchanged.
        """
        tokens = await self.session.execute(
            refresh_tokens.delete().where(refresh_tokens.c.expires_at < now).returning(refresh_tokens.c.id)
        )
        live_token = select(refresh_tokens.c.id).where(refresh_tokens.c.session_id == sessions.c.id).exists()
        over = await self.session.execute(
            sessions.delete()
            .where((sessions.c.revoked_at < now - keep_revoked) | (sessions.c.revoked_at.is_(None) & ~live_token))
            .returning(sessions.c.id)
        )
        return len(tokens.all()), len(over.all())

    async def live_user(self, session_id: uuid.UUID, user_id: uuid.UUID) -> RowMapping | None:
        """The user (and the session's ``session_scopes``) of a live session of an active user."""
        query = (
            select(users, sessions.c.scopes.label("session_scopes"))
            .join(sessions, sessions.c.user_id == users.c.id)
            .where(
                sessions.c.id == session_id,
                users.c.id == user_id,
                sessions.c.revoked_at.is_(None),
                users.c.active.is_(True),
            )
        )
        return (await self.session.execute(query)).mappings().one_or_none()


class ApiTokenRepository(Repository):
    async def insert(self, values: dict[str, Any]) -> RowMapping:
        result = await self.session.execute(api_tokens.insert().values(**values).returning(*_API_TOKEN_PUBLIC))
        row: RowMapping = result.mappings().one()
        return row

    async def by_hash(self, digest: bytes) -> RowMapping | None:
        query = select(*_API_TOKEN_PUBLIC).where(api_tokens.c.token_hash == digest)
        return (await self.session.execute(query)).mappings().one_or_none()

    async def get(self, token_id: uuid.UUID) -> RowMapping | None:
        query = select(*_API_TOKEN_PUBLIC).where(api_tokens.c.id == token_id)
        return (await self.session.execute(query)).mappings().one_or_none()

    async def page(self, *, after: uuid.UUID | None, limit: int) -> list[RowMapping]:
        query = select(*_API_TOKEN_PUBLIC).order_by(api_tokens.c.id).limit(limit)
        if after is not None:
            query = query.where(api_tokens.c.id > after)
        return list((await self.session.execute(query)).mappings().all())

    async def revoke(self, token_id: uuid.UUID, now: datetime) -> RowMapping | None:
        result = await self.session.execute(
            update(api_tokens)
            .where(api_tokens.c.id == token_id)
            .values(revoked_at=func.coalesce(api_tokens.c.revoked_at, now))
            .returning(*_API_TOKEN_PUBLIC)
        )
        return result.mappings().one_or_none()

    async def touch(self, token_id: uuid.UUID, now: datetime, *, every: timedelta) -> None:
        """Record use, at most once per ``every``: a write per request would cost more than it tells."""
        await self.session.execute(
            update(api_tokens)
            .where(
                api_tokens.c.id == token_id,
                (api_tokens.c.last_used_at.is_(None)) | (api_tokens.c.last_used_at < now - every),
            )
            .values(last_used_at=now)
        )


_API_TOKEN_PUBLIC = [c for c in api_tokens.c if c.name != "token_hash"]
