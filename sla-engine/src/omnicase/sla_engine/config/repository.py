"""The configuration version: one row, read once per consumed batch, bumped by every configuration change."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.sla_engine.models import config_version


class ConfigVersionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def current(self) -> int:
        return int(await self.session.scalar(select(config_version.c.version).where(config_version.c.id == 1)) or 0)

    async def bump(self) -> None:
        """Mark the configuration changed; commits (or rolls back) with the change itself."""
        await self.session.execute(
            update(config_version).where(config_version.c.id == 1).values(version=config_version.c.version + 1)
        )
