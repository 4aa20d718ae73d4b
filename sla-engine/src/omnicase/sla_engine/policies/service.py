"""SLA policy rules: business-hours targets need an existing schedule; first match wins."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.clock import utcnow
from omnicase.kit.errors import NOT_FOUND_CODE, FieldError, NotFound, refusal
from omnicase.kit.events import CaseSnapshot
from omnicase.kit.ids import uuid7
from omnicase.kit.pagination import Int32, Page, decode_cursor
from omnicase.sla_engine.business_hours.repository import ScheduleRepository
from omnicase.sla_engine.policies.repository import PolicyRepository
from omnicase.sla_engine.policies.schemas import MilestoneKind, Policy, PolicyCreate
from omnicase.sla_engine.resync import request_resync


class PolicyNotFound(NotFound):
    slug, title = "sla-policy-not-found", "SLA policy not found"


def _missing(policy_id: uuid.UUID) -> PolicyNotFound:
    return PolicyNotFound(f"SLA policy {policy_id} does not exist.")


def first_matching(policies: list[Policy], case: CaseSnapshot) -> Policy | None:
    """The first active policy, in position order, whose conditions the case meets."""
    return next((policy for policy in policies if policy.active and policy.conditions.matches(case)), None)


def _columns(payload: PolicyCreate) -> dict[str, Any]:
    return {
        "name": payload.name,
        "description": payload.description,
        "active": payload.active,
        "conditions": payload.conditions.model_dump(mode="json"),
        "targets": {priority.value: targets.model_dump(mode="json") for priority, targets in payload.targets.items()},
        "schedule_id": payload.schedule_id,
        "warning_percent": payload.warning_percent,
        "escalations": [escalation.model_dump(mode="json") for escalation in payload.escalations],
    }


class PolicyService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.repository = PolicyRepository(session)
        self.schedules = ScheduleRepository(session)

    async def page(self, cursor: str | None, limit: int) -> Page[Policy]:
        """The policies in evaluation order, a page after ``cursor``."""
        return await self.repository.page(decode_cursor(cursor, Int32, uuid.UUID), limit)

    async def _check(self, payload: PolicyCreate) -> None:
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

    async def create(self, payload: PolicyCreate) -> Policy:
        await self._check(payload)
        now = utcnow()
        position = payload.position if payload.position is not None else await self.repository.next_position()
        policy = await self.repository.insert(
            {"id": uuid7(), "position": position, "created_at": now, "updated_at": now, **_columns(payload)}
        )
        await request_resync(self.session)
        return policy

    async def get(self, policy_id: uuid.UUID) -> Policy:
        return await self.repository.get_or_raise(policy_id, _missing)

    async def replace(self, policy_id: uuid.UUID, payload: PolicyCreate) -> Policy:
        current = await self.get(policy_id)
        await self._check(payload)
        position = payload.position if payload.position is not None else current.position
        updated = await self.repository.update(
            policy_id, {"position": position, "updated_at": utcnow(), **_columns(payload)}
        )
        assert updated is not None
        await request_resync(self.session)
        return updated

    async def delete(self, policy_id: uuid.UUID) -> None:
        if not await self.repository.delete(policy_id):
            raise _missing(policy_id)
        await request_resync(self.session)
