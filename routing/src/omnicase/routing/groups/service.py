"""Groups (queues): unique names, overflow settings that hold together, refusing to delete one in use."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.clock import utcnow
from omnicase.kit.errors import NOT_FOUND_CODE, FieldError, refusal
from omnicase.kit.ids import uuid7
from omnicase.kit.pagination import Page, decode_id_cursor
from omnicase.routing.errors import GroupNotFound, NameTaken, OverflowConflict, StillInUse
from omnicase.routing.groups.repository import GroupRepository
from omnicase.routing.groups.schemas import Group, GroupCreate, GroupUpdate


def _missing(group_id: uuid.UUID) -> GroupNotFound:
    return GroupNotFound(f"Group {group_id} does not exist.")


class GroupService:
    def __init__(self, session: AsyncSession) -> None:
        self.repo = GroupRepository(session)

    async def get(self, group_id: uuid.UUID) -> Group:
        return await self.repo.get_or_raise(group_id, _missing)

    async def page(self, cursor: str | None, limit: int) -> Page[Group]:
        return await self.repo.page(decode_id_cursor(cursor), limit)

    async def create(self, payload: GroupCreate) -> Group:
        values = payload.model_dump()
        await self._check(values, None, set(values))
        group_id, now = uuid7(), utcnow()
        await self.repo.insert({**values, "id": group_id, "created_at": now, "updated_at": now})
        return await self.get(group_id)

    async def update(self, group_id: uuid.UUID, payload: GroupUpdate) -> Group:
        current = await self.get(group_id)
        changes = payload.model_dump(exclude_unset=True)
        merged = {**current.model_dump(), **changes}
        overflow = {key: merged[key] for key in ("overflow_after_seconds", "overflow_group_id")}
        await self._check({**changes, **overflow}, group_id, set(changes))
        if changes:
            await self.repo.update(group_id, {**changes, "updated_at": utcnow()})
        return await self.get(group_id)

    async def delete(self, group_id: uuid.UUID) -> None:
        await self.get(group_id)
        uses = await self.repo.uses(group_id)
        if uses:
            raise StillInUse(f"Group {group_id} is still in use: {'; '.join(uses)}.")
        await self.repo.delete(group_id)

    async def _check(self, values: dict[str, Any], group_id: uuid.UUID | None, given: set[str]) -> None:
        """Rules across fields: overflow needs both a limit and a fallback that exists and is another queue.

        What the body alone breaks (``given``: the fields it sent) is a 422, as its schema says too;
        what breaks only with the group's stored settings or its place among the queues (half an
        overflow whose other half is stored as none, a fallback that is the group itself or leads
        back to it) is a 409 naming the field.
        """
        errors: list[FieldError] = []
        conflicts: list[FieldError] = []
        limit, fallback = values.get("overflow_after_seconds"), values.get("overflow_group_id")
        if (limit is None) != (fallback is None):
            missing = "overflow_group_id" if fallback is None else "overflow_after_seconds"
            half = FieldError(
                field=f"body.{missing}",
                message="overflow needs both a wait limit and a fallback queue",
                code="required_with",
            )
            (errors if missing in given else conflicts).append(half)
        if fallback is not None:
            if fallback == group_id:
                conflicts.append(
                    FieldError(
                        field="body.overflow_group_id", message="a queue cannot overflow into itself", code="self"
                    )
                )
            elif not await self.repo.existing([fallback]):
                errors.append(FieldError(field="body.overflow_group_id", message="no such group", code=NOT_FOUND_CODE))
            elif group_id is not None and group_id in await self.repo.overflow_chain(fallback):
                conflicts.append(
                    FieldError(
                        field="body.overflow_group_id",
                        message="the fallback queue overflows back into this one",
                        code="cycle",
                    )
                )
        if errors:
            raise refusal("The group's overflow settings are not valid.", errors)
        if conflicts:
            raise OverflowConflict(
                "The group's overflow settings cannot be combined with how it is set now.", errors=conflicts
            )
        if "name" in values and await self.repo.taken("name", values["name"], other_than=group_id):
            raise NameTaken(f"A group named {values['name']!r} exists already.")
