"""Form definitions kept in the process, so a post does not read its form again.

Edits made through this process drop the form from the cache when their transaction
commits. Edits made through another replica are noticed by :meth:`FormCache.check`, run
every ``form_cache_check_seconds``: one tiny read of the table's generation (bumped by a
statement trigger on every insert, update or delete of ``forms``, whoever makes it); a new
generation empties the cache.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_web.forms.definition import StoredForm
from omnicase.intake_web.forms.repository import FormRepository
from omnicase.kit.db import Database
from omnicase.kit.sealing import Sealer

MAX_FORMS = 10_000


class FormCache:
    def __init__(self, database: Database, sealer: Sealer) -> None:
        self.database = database
        self.sealer = sealer
        self._forms: dict[uuid.UUID, StoredForm] = {}
        self._generation_seen: int | None = None
        # Bumped on every invalidation: a read that started before one is not kept.
        self._generation = 0

    async def get(self, form_id: uuid.UUID) -> StoredForm | None:
        """The form (enabled or not), None when it does not exist."""
        form = self._forms.get(form_id)
        if form is not None:
            return form
        generation = self._generation
        async with self.database.unit_of_work() as session:
            row = await FormRepository(session).get(form_id)
        if row is None:
            return None
        form = StoredForm.from_row(row, self.sealer)
        if generation == self._generation:
            if len(self._forms) >= MAX_FORMS:
                self._forms.clear()
            self._forms[form_id] = form
        return form

    def invalidate(self, form_id: uuid.UUID | None = None) -> None:
        self._generation += 1
        if form_id is None:
            self._forms.clear()
        else:
            self._forms.pop(form_id, None)

    def invalidate_on_commit(self, session: AsyncSession, form_id: uuid.UUID) -> None:
        """Drop ``form_id`` now and again once ``session`` commits (a read in between saw the old row)."""
        self.invalidate(form_id)

        def committed(_session: Any) -> None:
            self.invalidate(form_id)

        event.listen(session.sync_session, "after_commit", committed, once=True)

    async def check(self) -> None:
        """Empty the cache when any form changed since the last check (in any process)."""
        async with self.database.unit_of_work() as session:
            generation = await FormRepository(session).generation()
        if generation != self._generation_seen:
            self.invalidate()
            self._generation_seen = generation
