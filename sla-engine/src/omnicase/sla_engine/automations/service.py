"""Automation rules: business-hours conditions need an existing schedule."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.clock import utcnow
from omnicase.kit.errors import NOT_FOUND_CODE, FieldError, NotFound, refusal
from omnicase.kit.ids import uuid7
from omnicase.kit.pagination import Int32, Page, decode_cursor
from omnicase.sla_engine.automations.repository import AutomationRepository
from omnicase.sla_engine.automations.schemas import Automation, AutomationCreate
from omnicase.sla_engine.business_hours.repository import ScheduleRepository
from omnicase.sla_engine.resync import request_resync


class AutomationNotFound(NotFound):
    slug, title = "automation-not-found", "Automation not found"


def _missing(automation_id: uuid.UUID) -> AutomationNotFound:
    return AutomationNotFound(f"Automation {automation_id} does not exist.")


def _columns(payload: AutomationCreate) -> dict[str, Any]:
    return {
        "name": payload.name,
        "active": payload.active,
        "conditions": payload.conditions.model_dump(mode="json"),
        "time_condition": payload.time_condition.model_dump(mode="json"),
        "schedule_id": payload.schedule_id,
        "actions": [action.model_dump(mode="json") for action in payload.actions],
    }


class AutomationService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.repository = AutomationRepository(session)
        self.schedules = ScheduleRepository(session)

    async def page(self, cursor: str | None, limit: int) -> Page[Automation]:
        """The automations in evaluation order, a page after ``cursor``."""
        return await self.repository.page(decode_cursor(cursor, Int32, uuid.UUID), limit)

    async def _check(self, payload: AutomationCreate) -> None:
        errors: list[FieldError] = []
        if payload.schedule_id is not None and not await self.schedules.exists(payload.schedule_id):
            errors.append(
                FieldError(field="body.schedule_id", message="no such business-hours schedule", code=NOT_FOUND_CODE)
            )
        if payload.time_condition.business_hours and payload.schedule_id is None:
            errors.append(
                FieldError(
                    field="body.time_condition.business_hours",
                    message="business-hours conditions need schedule_id",
                    code="schedule_required",
                )
            )
        since = payload.time_condition.since
        if since in ("pending", "solved") and payload.conditions.status and payload.conditions.status != [since]:
            errors.append(
                FieldError(
                    field="body.conditions.status",
                    message=f"hours since {since} applies only to {since} cases",
                    code="contradiction",
                )
            )
        if errors:
            raise refusal("The automation is not valid.", errors)

    async def create(self, payload: AutomationCreate) -> Automation:
        await self._check(payload)
        now = utcnow()
        position = payload.position if payload.position is not None else await self.repository.next_position()
        automation = await self.repository.insert(
            {"id": uuid7(), "position": position, "created_at": now, "updated_at": now, **_columns(payload)}
        )
        await request_resync(self.session)
        return automation

    async def get(self, automation_id: uuid.UUID) -> Automation:
        return await self.repository.get_or_raise(automation_id, _missing)

    async def replace(self, automation_id: uuid.UUID, payload: AutomationCreate) -> Automation:
        current = await self.get(automation_id)
        await self._check(payload)
        position = payload.position if payload.position is not None else current.position
        updated = await self.repository.update(
            automation_id, {"position": position, "updated_at": utcnow(), **_columns(payload)}
        )
        assert updated is not None
        await request_resync(self.session)
        return updated

    async def delete(self, automation_id: uuid.UUID) -> None:
        if not await self.repository.delete(automation_id):
            raise _missing(automation_id)
        await request_resync(self.session)
