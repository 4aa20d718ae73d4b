"""SLA policy rules: business-hours targets need an existing schedule; first match wins."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.errors import NOT_FOUND_CODE, FieldError, NotFound, refusal
from omnicase.kit.events import CaseSnapshot
from omnicase.sla_engine.business_hours.repository import ScheduleRepository
from omnicase.sla_engine.ordered import OrderedRules
from omnicase.sla_engine.policies.repository import PolicyRepository
from omnicase.sla_engine.policies.schemas import MilestoneKind, Policy, PolicyCreate


class PolicyNotFound(NotFound):
    slug, title = "sla-policy-not-found", "SLA policy not found"


def first_matching(policies: list[Policy], case: CaseSnapshot) -> Policy | None:
    """The first active policy, in position order, whose conditions the case meets."""
    return next((policy for policy in policies if policy.active and policy.conditions.matches(case)), None)


class PolicyService(OrderedRules[PolicyCreate, Policy]):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, PolicyRepository(session))
        self.schedules = ScheduleRepository(session)

    def columns(self, payload: PolicyCreate) -> dict[str, Any]:
        return {
            "name": payload.name,
            "description": payload.description,
            "active": payload.active,
            "conditions": payload.conditions.model_dump(mode="json"),
            "targets": {
                priority.value: targets.model_dump(mode="json") for priority, targets in payload.targets.items()
            },
            "schedule_id": payload.schedule_id,
            "warning_percent": payload.warning_percent,
            "escalations": [escalation.model_dump(mode="json") for escalation in payload.escalations],
        }

    def missing(self, policy_id: uuid.UUID) -> NotFound:
        return PolicyNotFound(f"SLA policy {policy_id} does not exist.")

    async def check(self, payload: PolicyCreate) -> None:
        errors: list[FieldError] = []
        if payload.schedule_id is not None and not await self.schedules.exists(payload.schedule_id):
            errors.append(
                FieldError(field="body.schedule_id", message="no such business-hours schedule", code=NOT_FOUND_CODE)
            )
        if payload.schedule_id is None:
            for priority, targets in payload.targets.items():
                for kind in MilestoneKind:
                    target = targets.target(kind)
                    if target is not None and target.business_hours:
                        errors.append(
                            FieldError(
                                field=f"body.targets.{priority.value}.{kind.value}.business_hours",
                                message="business-hours targets need the policy's schedule_id",
                                code="schedule_required",
                            )
                        )
        if errors:
            raise refusal("The SLA policy is not valid.", errors)
