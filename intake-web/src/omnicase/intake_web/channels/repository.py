"""Every query on the ``channels`` table (and, with its own table, ``voice_channels``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Row, Table, delete, insert, select, update

from omnicase.intake_web.models import channels
from omnicase.kit.repository import Repository


class ChannelRepository(Repository):
    # Voice channels are kept the same way in a table of their own.
    table: ClassVar[Table] = channels

    async def add(self, channel_id: uuid.UUID, values: dict[str, Any], now: datetime) -> Row[Any]:
        result = await self.session.execute(
            insert(self.table)
            .values(id=channel_id, version=1, created_at=now, updated_at=now, **values)
            .returning(*self.table.c)
        )
        return result.one()

    async def get(self, channel_id: uuid.UUID) -> Row[Any] | None:
        query = select(*self.table.c).where(self.table.c.id == channel_id)
        return (await self.session.execute(query)).one_or_none()

    async def page(self, after: uuid.UUID | None, limit: int) -> list[Row[Any]]:
        query = select(*self.table.c).order_by(self.table.c.id).limit(limit)
        if after is not None:
            query = query.where(self.table.c.id > after)
        return list((await self.session.execute(query)).all())

    async def replace(self, channel_id: uuid.UUID, values: dict[str, Any], now: datetime) -> Row[Any] | None:
        result = await self.session.execute(
            update(self.table)
            .where(self.table.c.id == channel_id)
            .values(version=self.table.c.version + 1, updated_at=now, **values)
            .returning(*self.table.c)
        )
        return result.one_or_none()

    async def delete(self, channel_id: uuid.UUID) -> bool:
        result = await self.session.execute(
            delete(self.table).where(self.table.c.id == channel_id).returning(self.table.c.id)
        )
        return result.one_or_none() is not None
