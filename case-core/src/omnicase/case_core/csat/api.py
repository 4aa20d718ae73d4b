"""CSAT settings (read: staff; replace: admins) and requesters' opt-outs from surveys."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from omnicase.case_core.csat.schemas import CsatOptOut, CsatSettings, CsatSettingsInput
from omnicase.case_core.errors import ContactNotFound, OptOutNotFound
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


@router.get(
    "/opt-outs/{contact_id}",
    operation_id="get_csat_opt_out",
    summary="Whether a contact opted out of satisfaction surveys (404: they get them)",
    response_model=CsatOptOut,
    responses=problem_responses(OptOutNotFound),
)
async def get_csat_opt_out(
    contact_id: uuid.UUID, session: SessionDep, services: ServicesDep, actor: CaseReader
) -> CsatOptOut:
    return await services.csat.opt_out_of(session, contact_id)


@router.put(
    "/opt-outs/{contact_id}",
    operation_id="add_csat_opt_out",
    summary="Send a contact no more satisfaction surveys (the ones not sent yet included)",
    response_model=CsatOptOut,
    responses=problem_responses(ContactNotFound),
)
async def add_csat_opt_out(
    contact_id: uuid.UUID, session: SessionDep, services: ServicesDep, actor: Admin
) -> CsatOptOut:
    return await services.csat.opt_out(session, contact_id, actor.name)


@router.delete(
    "/opt-outs/{contact_id}",
    operation_id="remove_csat_opt_out",
    summary="Survey a contact again",
    status_code=204,
    responses=problem_responses(OptOutNotFound),
)
async def remove_csat_opt_out(
    contact_id: uuid.UUID, session: SessionDep, services: ServicesDep, actor: Admin
) -> Response:
    await services.csat.opt_in(session, contact_id)
    return Response(status_code=204)
