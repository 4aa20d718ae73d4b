"""Every query on the ``forms`` table."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, insert, select, update

from omnicase.intake_web.models import config_version, forms
from omnicase.kit.config_version import read_config_version
from omnicase.kit.repository import Repository


class FormRepository(Repository):
    async def add(
        self, form_id: uuid.UUID, name: str, enabled: bool, definition: dict[str, Any], now: datetime
    ) -> Row[Any]:
        result = await self.session.execute(
            insert(forms)
            .values(
                id=form_id, name=name, enabled=enabled, definition=definition, version=1, created_at=now, updated_at=now
            )
            .returning(*forms.c)
        )
        return result.one()

    async def get(self, form_id: uuid.UUID) -> Row[Any] | None:
        result = await self.session.execute(select(*forms.c).where(forms.c.id == form_id))
        return result.one_or_none()

    async def generation(self) -> int:
        """The configuration version: it moves with every change of the table, in any process."""
        return await read_config_version(self.session, config_version)

    async def page(self, after: uuid.UUID | None, limit: int) -> list[Row[Any]]:
        query = select(*forms.c).order_by(forms.c.id).limit(limit)
        if after is not None:
            query = query.where(forms.c.id > after)
        return list((await self.session.execute(query)).all())

    async def replace(
        self, form_id: uuid.UUID, name: str, enabled: bool, definition: dict[str, Any], now: datetime
    ) -> Row[Any] | None:
        result = await self.session.execute(
            update(forms)
            .where(forms.c.id == form_id)
            .values(name=name, enabled=enabled, definition=definition, version=forms.c.version + 1, updated_at=now)
            .returning(*forms.c)
        )
        return result.one_or_none()

    async def delete(self, form_id: uuid.UUID) -> bool:
        result = await self.session.execute(delete(forms).where(forms.c.id == form_id).returning(forms.c.id))
        return result.one_or_none() is not None
