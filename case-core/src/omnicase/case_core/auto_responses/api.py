"""The auto-response template: read it (agents), set it or go back to the built-in one (admins).

Under ``/api/v1/triggers``: an auto-response is the first rule every new email case meets.
"""

from __future__ import annotations

from fastapi import APIRouter

from omnicase.case_core.auto_responses.schemas import AutoResponse, AutoResponseTemplate
from omnicase.case_core.identity import Admin, CaseReader
from omnicase.case_core.wiring import ServicesDep
from omnicase.kit.db import SessionDep
from omnicase.kit.errors import ValidationFailed, problem_responses
from omnicase.kit.identity import AUTH_PROBLEMS

router = APIRouter(prefix="/api/v1/triggers", tags=["triggers"], responses=AUTH_PROBLEMS)


@router.get(
    "/auto-response",
    operation_id="get_auto_response",
    summary="The acknowledgement new email cases get (the built-in one until an admin sets one)",
    response_model=AutoResponse,
)
async def get_auto_response(session: SessionDep, services: ServicesDep, actor: CaseReader) -> AutoResponse:
    return await services.auto_responses.current(session)


@router.put(
    "/auto-response",
    operation_id="set_auto_response",
    summary="Set the auto-response text and its brand and locale variants",
    response_model=AutoResponse,
    responses=problem_responses(ValidationFailed),
)
async def set_auto_response(
    data: AutoResponseTemplate, session: SessionDep, services: ServicesDep, actor: Admin
) -> AutoResponse:
    return await services.auto_responses.save(session, data, actor.name)


@router.delete(
    "/auto-response",
    operation_id="reset_auto_response",
    summary="Go back to the built-in auto-response",
    response_model=AutoResponse,
)
async def reset_auto_response(session: SessionDep, services: ServicesDep, actor: Admin) -> AutoResponse:
    return await services.auto_responses.reset(session)
