"""Policies, automations and business-hour schedules, cached in the process.

The consumer reads the configuration version (:mod:`omnicase.kit.config_version`: one
row, moved by triggers on every write to policies, automations and schedules) at the
start of each batch and reloads everything only when it moved, so a change made in any
replica or process is seen by every consumer from its next batch on.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.business_time import TimeMeasure
from omnicase.kit.config_version import VersionedCache
from omnicase.sla_engine.automations.repository import AutomationRepository
from omnicase.sla_engine.automations.schemas import Automation
from omnicase.sla_engine.business_hours.measures import CALENDAR
from omnicase.sla_engine.business_hours.repository import ScheduleRepository
from omnicase.sla_engine.models import config_version
from omnicase.sla_engine.policies.repository import PolicyRepository
from omnicase.sla_engine.policies.schemas import Policy
from omnicase.sla_engine.rules import CaseConditions

# Snapshot fields a policy or automation condition, or a target, reads (tags apart).
ENGINE_FIELDS = (
    "status",
    "priority",
    "channel",
    "brand",
    "brand_id",
    "language",
    "type",
    "group_id",
    "organization_id",
    "created_at",
)


@dataclass(frozen=True)
class Configuration:
    version: int
    policies: list[Policy]
    automations: list[Automation]
    calendars: dict[uuid.UUID, TimeMeasure] = field(default_factory=dict)

    def measure(self, business_hours: bool, schedule_id: uuid.UUID | None) -> TimeMeasure:
        if not business_hours or schedule_id is None:
            return CALENDAR
        # A schedule cannot be deleted while a policy uses it; calendar time is the safe fallback regardless.
        return self.calendars.get(schedule_id, CALENDAR)

    def schedule_of(self, policy_id: uuid.UUID | None) -> uuid.UUID | None:
        """The business-hours schedule of the policy (None: no policy, gone, or none set)."""
        return next((p.schedule_id for p in self.policies if p.id == policy_id), None)

    @property
    def tags_read(self) -> frozenset[str]:
        """Every tag some condition looks at: a change of any other tag changes nothing here."""
        conditions: list[CaseConditions] = [p.conditions for p in self.policies]
        conditions += [a.conditions for a in self.automations]
        return frozenset(tag for c in conditions for tag in (*c.tags_all, *c.tags_any, *c.tags_none))

    @property
    def reads_updated_at(self) -> bool:
        """Some automation counts hours since the case's last update."""
        return any(a.time_condition.since == "updated" for a in self.automations)


async def load_configuration(session: AsyncSession, version: int) -> Configuration:
    schedules = await ScheduleRepository(session).all()
    return Configuration(
        version=version,
        policies=await PolicyRepository(session).active_in_order(),
        automations=await AutomationRepository(session).active_in_order(),
        calendars={schedule.id: schedule.calendar() for schedule in schedules},
    )


class ConfigCache(VersionedCache[Configuration]):
    """The configuration as of the last batch; one per process (or per unit of work when not shared)."""

    def __init__(self) -> None:
        super().__init__(config_version, load_configuration)
