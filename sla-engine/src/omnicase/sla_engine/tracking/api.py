"""Routes of /api/v1/sla: one case's SLA state, attainment reports."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from omnicase.kit.db import SessionDep
from omnicase.kit.errors import ValidationFailed, problem_responses
from omnicase.kit.identity import area_access
from omnicase.kit.inputs import IsoDateTime
from omnicase.sla_engine.tracking.reporting import CaseNotTracked, Interval, ReportService
from omnicase.sla_engine.tracking.schemas import AttainmentReport, CaseSla

router = APIRouter(prefix="/api/v1/sla", tags=["sla"], dependencies=[Depends(area_access("sla"))])


@router.get(
    "/cases/{case_id}",
    operation_id="get_case_sla",
    summary="A case's SLA milestones now: targets, due times, time remaining or overdue",
    responses=problem_responses(CaseNotTracked),
)
async def get_case_sla(case_id: uuid.UUID, session: SessionDep) -> CaseSla:
    return await ReportService(session).case_sla(case_id)


@router.get(
    "/attainment",
    operation_id="get_sla_attainment",
    summary="Attainment per policy and milestone over a period",
    responses=problem_responses(ValidationFailed),
)
async def get_attainment(
    session: SessionDep,
    since: Annotated[IsoDateTime | None, Query(description="Start (inclusive); default 30 days before until.")] = None,
    until: Annotated[IsoDateTime | None, Query(description="End (exclusive); default now.")] = None,
    policy_id: Annotated[uuid.UUID | None, Query(description="Only this policy.")] = None,
    interval: Annotated[Interval | None, Query(description="Break the period down by UTC day, week or month.")] = None,
) -> AttainmentReport:
    return await ReportService(session).attainment(since, until, policy_id, interval)
