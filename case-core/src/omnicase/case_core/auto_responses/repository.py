"""Every query about the auto-response template, answering typed records."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, select
from sqlalchemy.dialects.postgresql import insert

from omnicase.case_core.auto_responses.models import auto_response_templates as table
from omnicase.kit.repository import Repository


@dataclass(frozen=True)
class AutoResponseRow:
    id: int
    text: str
    variants: tuple[Mapping[str, Any], ...]  # each {"text", "subject"?, "brand"?, "locale"?}, as saved
    updated_by: str
    updated_at: datetime


def _record(row: RowMapping) -> AutoResponseRow:
    return AutoResponseRow(**{**row, "variants": tuple(row["variants"])})


class AutoResponseRepository(Repository):
    async def stored(self) -> AutoResponseRow | None:
        """The one stored template, or None while the built-in one applies."""
        row = (await self.session.execute(select(table))).mappings().one_or_none()
        return _record(row) if row else None

    async def save(
        self,
        *,
        text: str,
        variants: Sequence[Mapping[str, Any]],
        updated_by: str,
        updated_at: datetime,
    ) -> AutoResponseRow:
        values = {"text": text, "variants": list(variants), "updated_by": updated_by, "updated_at": updated_at}
        statement = (
            insert(table)
            .values(id=1, **values)
            .on_conflict_do_update(index_elements=[table.c.id], set_=values)
            .returning(table)
        )
        return _record((await self.session.execute(statement)).mappings().one())

    async def delete(self) -> bool:
        return (await self.session.execute(table.delete().returning(table.c.id))).first() is not None
