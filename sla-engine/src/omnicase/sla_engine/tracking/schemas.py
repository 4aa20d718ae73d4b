"""Per-case SLA state and attainment reports as the API shows them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from omnicase.kit.events import CaseStatus
from omnicase.sla_engine.policies.schemas import MilestoneKind


class MilestoneState(BaseModel):
    kind: MilestoneKind
    cycle: int = Field(description="1 for the first clock of this kind; next reply and periodic update repeat.")
    status: Literal["running", "paused", "achieved", "breached", "cancelled"]
    policy_id: uuid.UUID | None
    target_minutes: float | None
    business_hours: bool = Field(description="Counted in the policy schedule's working time.")
    started_at: datetime
    warn_at: datetime | None = Field(description="When the warning threshold is reached; null while paused.")
    due_at: datetime | None = Field(description="When the target is reached; null while paused short of it.")
    elapsed_seconds: float = Field(description="Counted time so far (business seconds for business-hours targets).")
    remaining_seconds: float | None = Field(description="Counted time left before the target; 0 once overdue.")
    overdue_seconds: float | None = Field(description="Counted time past the target; 0 while within it.")
    paused: bool
    achieved_at: datetime | None
    breached: bool
    breached_at: datetime | None


class CaseSla(BaseModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "case_id": "0192f1c0-0000-7000-8000-000000000001",
                    "policy_id": "0192f1c0-0000-7000-8000-0000000000aa",
                    "case_status": "open",
                    "milestones": [
                        {
                            "kind": "first_reply",
                            "cycle": 1,
                            "status": "running",
                            "policy_id": "0192f1c0-0000-7000-8000-0000000000aa",
                            "target_minutes": 60,
                            "business_hours": False,
                            "started_at": "2026-01-05T09:00:00Z",
                            "warn_at": "2026-01-05T09:45:00Z",
                            "due_at": "2026-01-05T10:00:00Z",
                            "elapsed_seconds": 600,
                            "remaining_seconds": 3000,
                            "overdue_seconds": 0,
                            "paused": False,
                            "achieved_at": None,
                            "breached": False,
                            "breached_at": None,
                        }
                    ],
                }
            ]
        }
    }

    case_id: uuid.UUID
    policy_id: uuid.UUID | None = Field(description="The policy that applies now; null when none matches.")
    case_status: CaseStatus
    milestones: list[MilestoneState] = Field(description="Milestones that have or had a target, oldest first.")


class Attainment(BaseModel):
    period_start: datetime | None = Field(description="Start of the bucket when an interval was asked for.")
    policy_id: uuid.UUID
    milestone: MilestoneKind
    total: int = Field(description="Milestones achieved in the period, plus those breached in it and still open.")
    achieved_on_time: int
    breaches: int
    achieved_percent: float = Field(description="achieved_on_time / total * 100.", examples=[92.5])
    median_seconds: float | None = Field(description="Median counted time to achieve (achieved ones only).")
    p90_seconds: float | None


class AttainmentReport(BaseModel):
    since: datetime
    until: datetime
    interval: Literal["day", "week", "month"] | None
    items: list[Attainment] = Field(description="By period start (when bucketed), policy and milestone.")
