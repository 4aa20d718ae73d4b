"""CSAT settings: read them (staff), replace them (admins)."""

from __future__ import annotations

from fastapi import APIRouter

from omnicase.case_core.csat.schemas import CsatSettings, CsatSettingsInput
from omnicase.case_core.identity import Admin, CaseReader
from omnicase.case_core.wiring import ServicesDep
from omnicase.kit.db import SessionDep
from omnicase.kit.errors import ValidationFailed, problem_responses
from omnicase.kit.identity import AUTH_PROBLEMS

router = APIRouter(prefix="/api/v1/csat", tags=["csat"], responses=AUTH_PROBLEMS)


@router.get(
    "/settings",
    operation_id="get_csat_settings",
    summary="The satisfaction survey settings (the built-in ones, surveys off, until an admin saves some)",
    response_model=CsatSettings,
)
async def get_csat_settings(session: SessionDep, services: ServicesDep, actor: CaseReader) -> CsatSettings:
    return await services.csat.current(session)


@router.put(
    "/settings",
    operation_id="set_csat_settings",
    summary="Set whether and when solved cases' requesters are surveyed, the Bad reasons and the texts per locale",
    response_model=CsatSettings,
    responses=problem_responses(ValidationFailed),
)
async def set_csat_settings(
    data: CsatSettingsInput, session: SessionDep, services: ServicesDep, actor: Admin
) -> CsatSettings:
    return await services.csat.save(session, data, actor.name)
