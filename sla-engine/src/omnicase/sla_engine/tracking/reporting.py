"""Read side: one case's SLA state now, and attainment per policy over a period."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.clock import utcnow
from omnicase.kit.errors import NotFound
from omnicase.kit.inputs import report_period
from omnicase.sla_engine.business_hours.measures import Measures
from omnicase.sla_engine.business_hours.repository import ScheduleRepository
from omnicase.sla_engine.policies.schemas import MilestoneKind
from omnicase.sla_engine.tracking.milestones import Milestone
from omnicase.sla_engine.tracking.repository import TrackingRepository
from omnicase.sla_engine.tracking.schemas import Attainment, AttainmentReport, CaseSla, MilestoneState

Interval = Literal["day", "week", "month"]


class CaseNotTracked(NotFound):
    slug, title = "sla-case-not-found", "Case not tracked"


class ReportService:
    def __init__(self, session: AsyncSession) -> None:
        self.cases = TrackingRepository(session)
        self.measures = Measures(ScheduleRepository(session))

    async def case_sla(self, case_id: uuid.UUID) -> CaseSla:
        state = await self.cases.get_case(case_id)
        if state is None:
            raise CaseNotTracked(f"Case {case_id} has had no event the SLA engine has seen.")
        now = utcnow()
        items: list[MilestoneState] = []
        milestones = sorted(await self.cases.milestones(case_id), key=lambda m: (m.started_at, m.kind, m.cycle))
        for milestone in milestones:
            if milestone.policy_id is None:
                continue
            items.append(await self._state(milestone, now))
        return CaseSla(case_id=case_id, policy_id=state.policy_id, case_status=state.status, milestones=items)

    async def _state(self, milestone: Milestone, now: datetime) -> MilestoneState:
        measure = await self.measures.get(milestone.business_hours, milestone.schedule_id)
        elapsed = (
            milestone.achieved_seconds
            if milestone.achieved_seconds is not None
            else milestone.elapsed(measure, milestone.achieved_at or milestone.cancelled_at or now)
        )
        remaining = overdue = None
        if milestone.open and milestone.target_seconds is not None:
            remaining = max(0.0, milestone.target_seconds - elapsed)
            overdue = max(0.0, elapsed - milestone.target_seconds)
        target = milestone.target_seconds
        return MilestoneState(
            kind=milestone.kind,
            cycle=milestone.cycle,
            status=milestone.status(now),
            policy_id=milestone.policy_id,
            target_minutes=target / 60 if target is not None else None,
            business_hours=milestone.business_hours,
            started_at=milestone.started_at,
            warn_at=milestone.warn_at if milestone.open else None,
            due_at=milestone.due_at,
            elapsed_seconds=elapsed,
            remaining_seconds=remaining,
            overdue_seconds=overdue,
            paused=milestone.paused,
            achieved_at=milestone.achieved_at,
            breached=milestone.breached_at is not None or (overdue is not None and overdue > 0),
            breached_at=milestone.breached_at,
        )

    async def attainment(
        self,
        since: datetime | None,
        until: datetime | None,
        policy_id: uuid.UUID | None,
        interval: Interval | None = None,
    ) -> AttainmentReport:
        since, until = report_period(since, until)
        rows = await self.cases.attainment(since, until, policy_id, interval)
        items = [
            Attainment(
                period_start=row["period_start"],
                policy_id=row["policy_id"],
                milestone=MilestoneKind(row["kind"]),
                total=row["total"],
                achieved_on_time=row["achieved_on_time"],
                breaches=row["breaches"],
                achieved_percent=round(100.0 * row["achieved_on_time"] / row["total"], 2) if row["total"] else 0.0,
                median_seconds=row["median_seconds"],
                p90_seconds=row["p90_seconds"],
            )
            for row in rows
        ]
        return AttainmentReport(since=since, until=until, interval=interval, items=items)
