"""Views: who may see and change which, and how a view's filters become the case list's."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.cases.repository import CaseFilters, CaseKey, CaseRepository, CaseRow
from omnicase.case_core.identity import Actor
from omnicase.case_core.views.repository import ViewRepository, ViewRow
from omnicase.case_core.views.schemas import ViewCreate, ViewFilters, ViewUpdate
from omnicase.kit.clock import utcnow
from omnicase.kit.errors import FieldError, Forbidden, NotFound, ValidationFailed
from omnicase.kit.ids import uuid7

# "assigned to me" for a caller who is no agent (an API token): matches no case.
_NOBODY = uuid.UUID(int=0)
MAX_COUNTED = 50


class ViewNotFound(NotFound):
    slug = "view-not-found"


def case_filters(filters: ViewFilters, actor: Actor) -> CaseFilters:
    assignee = filters.assignee
    if assignee == "me":
        assignee = actor.user_id or _NOBODY
    return CaseFilters(
        status=[s.value for s in filters.status],
        priority=[p.value for p in filters.priority],
        channel=[c.value for c in filters.channel],
        type=list(filters.type),
        tags=list(filters.tags),
        assignee_id=assignee if isinstance(assignee, uuid.UUID) else None,
        unassigned=filters.unassigned,
        group_id=filters.group_id,
        brand=filters.brand,
        brand_id=filters.brand_id,
        organization_id=filters.organization_id,
        requester_id=filters.requester_id,
        q=filters.q.strip() if filters.q and filters.q.strip() else None,
    )


class ViewService:
    async def cases(
        self, session: AsyncSession, filters: CaseFilters, *, sort: str, after: CaseKey | None, limit: int
    ) -> list[CaseRow]:
        """The cases a view shows, in its ``sort`` order after the cursor's key, ``limit`` of them."""
        return await CaseRepository(session).page(filters, sort=sort, after=after, limit=limit)

    async def visible(self, session: AsyncSession, owner: str, group_ids: Sequence[uuid.UUID] | None) -> list[ViewRow]:
        """Everyone's views, the caller's own, and those of the groups named (``None``: of every group)."""
        return await ViewRepository(session).visible(owner, group_ids)

    async def create(self, session: AsyncSession, data: ViewCreate, actor: Actor, *, admin: bool) -> ViewRow:
        if data.visibility != "personal" and not admin:
            raise Forbidden("Only admins share views with a group or everyone; save it as personal.")
        now = utcnow()
        view = ViewRow(
            id=uuid7(),
            name=data.name,
            visibility=data.visibility,
            owner=actor.name if data.visibility == "personal" else None,
            group_id=data.group_id,
            filters=data.filters.model_dump(mode="json"),
            columns=tuple(data.columns),
            sort=data.sort,
            position=data.position,
            created_at=now,
            updated_at=now,
        )
        return await ViewRepository(session).insert(view)

    async def get(
        self, session: AsyncSession, view_id: uuid.UUID, actor: Actor, groups: Collection[uuid.UUID] | None = None
    ) -> ViewRow:
        """The view if the caller may see it; ``groups``: the caller's groups (None: every group's, admins)."""
        row = await ViewRepository(session).get(view_id)
        # Someone else's personal view, or another group's, is not theirs to learn about.
        if (
            row is None
            or (row.visibility == "personal" and row.owner != actor.name)
            or (row.visibility == "group" and groups is not None and row.group_id not in groups)
        ):
            raise ViewNotFound(f"No view {view_id}.")
        return row

    async def _editable(self, session: AsyncSession, view_id: uuid.UUID, actor: Actor, admin: bool) -> ViewRow:
        row = await self.get(session, view_id, actor)
        if row.visibility != "personal" and not admin:
            raise Forbidden("Shared views are changed by admins.")
        return row

    async def update(
        self, session: AsyncSession, view_id: uuid.UUID, data: ViewUpdate, actor: Actor, *, admin: bool
    ) -> ViewRow:
        await self._editable(session, view_id, actor, admin)
        values: dict[str, Any] = data.model_dump(exclude_unset=True, mode="json")
        values["updated_at"] = utcnow()
        return await ViewRepository(session).update(view_id, values)

    async def delete(self, session: AsyncSession, view_id: uuid.UUID, actor: Actor, *, admin: bool) -> None:
        await self._editable(session, view_id, actor, admin)
        await ViewRepository(session).delete(view_id)

    async def counts(
        self,
        session: AsyncSession,
        actor: Actor,
        view_ids: list[uuid.UUID],
        group_ids: list[uuid.UUID] | None,
    ) -> list[tuple[uuid.UUID, int]]:
        """Counts of the views named (or of every view the caller sees), in one query."""
        if view_ids:
            rows = [await self.get(session, view_id, actor, group_ids) for view_id in dict.fromkeys(view_ids)]
        else:
            rows = await ViewRepository(session).visible(actor.name, group_ids)
        if len(rows) > MAX_COUNTED:
            raise ValidationFailed(
                f"At most {MAX_COUNTED} views are counted at once.",
                errors=[FieldError(field="query.view_id", message=f"more than {MAX_COUNTED}", code="too_many")],
            )
        filters = [case_filters(ViewFilters.model_validate(row.filters), actor) for row in rows]
        return list(zip([row.id for row in rows], await CaseRepository(session).counts(filters), strict=True))
