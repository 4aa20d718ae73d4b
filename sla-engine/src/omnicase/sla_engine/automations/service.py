"""Automation rules: business-hours conditions need an existing schedule."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.errors import NOT_FOUND_CODE, FieldError, NotFound, refusal
from omnicase.sla_engine.automations.repository import AutomationRepository
from omnicase.sla_engine.automations.schemas import Automation, AutomationCreate
from omnicase.sla_engine.business_hours.repository import ScheduleRepository
from omnicase.sla_engine.ordered import OrderedRules


class AutomationNotFound(NotFound):
    slug, title = "automation-not-found", "Automation not found"


class AutomationService(OrderedRules[AutomationCreate, Automation]):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, AutomationRepository(session))
        self.schedules = ScheduleRepository(session)

    def columns(self, payload: AutomationCreate) -> dict[str, Any]:
        return {
            "name": payload.name,
            "active": payload.active,
            "conditions": payload.conditions.model_dump(mode="json"),
            "time_condition": payload.time_condition.model_dump(mode="json"),
            "schedule_id": payload.schedule_id,
            "actions": [action.model_dump(mode="json") for action in payload.actions],
        }

    def missing(self, automation_id: uuid.UUID) -> NotFound:
        return AutomationNotFound(f"Automation {automation_id} does not exist.")

    async def check(self, payload: AutomationCreate) -> None:
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
