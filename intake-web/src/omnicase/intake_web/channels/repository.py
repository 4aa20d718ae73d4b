"""Every query on the ``channels`` table."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, insert, select, update

from omnicase.intake_web.models import channels
from omnicase.kit.repository import Repository


class ChannelRepository(Repository):
    async def add(self, channel_id: uuid.UUID, values: dict[str, Any], now: datetime) -> Row[Any]:
        result = await self.session.execute(
            insert(channels)
            .values(id=channel_id, version=1, created_at=now, updated_at=now, **values)
            .returning(*channels.c)
        )
        return result.one()

    async def get(self, channel_id: uuid.UUID) -> Row[Any] | None:
        return (await self.session.execute(select(*channels.c).where(channels.c.id == channel_id))).one_or_none()

    async def page(self, after: uuid.UUID | None, limit: int) -> list[Row[Any]]:
        query = select(*channels.c).order_by(channels.c.id).limit(limit)
        if after is not None:
            query = query.where(channels.c.id > after)
        return list((await self.session.execute(query)).all())

    async def replace(self, channel_id: uuid.UUID, values: dict[str, Any], now: datetime) -> Row[Any] | None:
        result = await self.session.execute(
            update(channels)
            .where(channels.c.id == channel_id)
            .values(version=channels.c.version + 1, updated_at=now, **values)
            .returning(*channels.c)
        )
        return result.one_or_none()

    async def delete(self, channel_id: uuid.UUID) -> bool:
        result = await self.session.execute(
            delete(channels).where(channels.c.id == channel_id).returning(channels.c.id)
        )
        return result.one_or_none() is not None
