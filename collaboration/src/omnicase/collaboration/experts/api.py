"""Route of /api/v1/cases/{case_id}/experts."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from omnicase.collaboration.deps import ExpertsDep
from omnicase.collaboration.experts.schemas import ExpertList
from omnicase.collaboration.swarms.service import CaseNotFound
from omnicase.kit.db import SessionDep
from omnicase.kit.errors import ServiceUnavailable, problem_responses
from omnicase.kit.identity import area_access

router = APIRouter(
    prefix="/api/v1/cases/{case_id}/experts", tags=["swarms"], dependencies=[Depends(area_access("collaboration"))]
)


@router.get(
    "",
    operation_id="list_case_experts",
    summary="Agents who could help on a case, best first, with the evidence",
    responses=problem_responses(CaseNotFound, ServiceUnavailable),
)
async def list_case_experts(
    case_id: uuid.UUID,
    experts: ExpertsDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=50, description="How many experts, at most 50.")] = 5,
) -> ExpertList:
    return await experts.find(session, case_id, limit)
