"""Trigger routes: the ordered rules (admins change them), their runs on a case, and dry runs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from omnicase.case_core.errors import CaseClosed, CaseNotFound
from omnicase.case_core.identity import Admin, CaseReader
from omnicase.case_core.triggers.schemas import (
    DryRunRequest,
    FiredTrigger,
    Trigger,
    TriggerCreate,
    TriggerList,
    TriggerRun,
    TriggerUpdate,
)
from omnicase.case_core.triggers.service import TriggerNotFound, TriggerService
from omnicase.case_core.wiring import ServicesDep
from omnicase.kit.db import SessionDep
from omnicase.kit.errors import UnknownReference, ValidationFailed, problem_responses
from omnicase.kit.identity import AUTH_PROBLEMS

router = APIRouter(prefix="/api/v1/triggers", tags=["triggers"], responses=AUTH_PROBLEMS)


def _triggers(services: ServicesDep) -> TriggerService:
    return services.triggers


TriggersDep = Annotated[TriggerService, Depends(_triggers)]


class RecordedRun(TriggerRun):
    version: int
    at: datetime


class RecordedRunList(BaseModel):
    items: list[RecordedRun]


@router.get("", operation_id="list_triggers", summary="List triggers in evaluation order", response_model=TriggerList)
async def list_triggers(session: SessionDep, triggers: TriggersDep, actor: CaseReader) -> TriggerList:
    return TriggerList(items=[Trigger.model_validate(row, from_attributes=True) for row in await triggers.all(session)])


@router.post(
    "",
    operation_id="create_trigger",
    summary="Create a trigger",
    status_code=201,
    response_model=Trigger,
    responses=problem_responses(ValidationFailed, UnknownReference),
)
async def create_trigger(
    data: TriggerCreate, session: SessionDep, triggers: TriggersDep, actor: Admin, response: Response
) -> Trigger:
    row = await triggers.create(session, data)
    response.headers["Location"] = f"/api/v1/triggers/{row.id}"
    return Trigger.model_validate(row, from_attributes=True)


@router.post(
    "/dry-run",
    operation_id="dry_run_triggers",
    summary="Which triggers would fire for a case",
    response_model=TriggerRun,
    responses=problem_responses(CaseNotFound, CaseClosed, ValidationFailed, UnknownReference),
)
async def dry_run(data: DryRunRequest, session: SessionDep, triggers: TriggersDep, actor: CaseReader) -> TriggerRun:
    """Applies the imagined change and the rules in a transaction that is rolled back: nothing is kept or sent."""
    result = await triggers.dry_run(session, data.case_id, data.changes, actor)
    return TriggerRun(
        fired=[FiredTrigger(trigger_id=t.id, name=t.name) for t in result.fired],
        stopped_reason=result.stopped_reason,
        changes=result.changes,
    )


@router.get(
    "/runs",
    operation_id="list_trigger_runs",
    summary="The trigger runs recorded on a case",
    response_model=RecordedRunList,
)
async def list_runs(
    session: SessionDep,
    triggers: TriggersDep,
    actor: CaseReader,
    case_id: Annotated[uuid.UUID, Query(description="The case whose runs to list, oldest first.")],
) -> RecordedRunList:
    rows = await triggers.runs_of(session, case_id)
    return RecordedRunList(
        items=[
            RecordedRun(
                fired=[FiredTrigger.model_validate(f) for f in row.fired],
                stopped_reason=row.stopped_reason,
                version=row.version,
                at=row.at,
            )
            for row in rows
        ]
    )


@router.get(
    "/{trigger_id}",
    operation_id="get_trigger",
    summary="Read a trigger",
    response_model=Trigger,
    responses=problem_responses(TriggerNotFound),
)
async def get_trigger(trigger_id: uuid.UUID, session: SessionDep, triggers: TriggersDep, actor: CaseReader) -> Trigger:
    return Trigger.model_validate(await triggers.get(session, trigger_id), from_attributes=True)


@router.patch(
    "/{trigger_id}",
    operation_id="update_trigger",
    summary="Change, reorder or deactivate a trigger",
    response_model=Trigger,
    responses=problem_responses(TriggerNotFound, ValidationFailed, UnknownReference),
)
async def update_trigger(
    trigger_id: uuid.UUID, data: TriggerUpdate, session: SessionDep, triggers: TriggersDep, actor: Admin
) -> Trigger:
    return Trigger.model_validate(await triggers.update(session, trigger_id, data), from_attributes=True)


@router.delete(
    "/{trigger_id}",
    operation_id="delete_trigger",
    summary="Delete a trigger",
    status_code=204,
    responses=problem_responses(TriggerNotFound),
)
async def delete_trigger(trigger_id: uuid.UUID, session: SessionDep, triggers: TriggersDep, actor: Admin) -> Response:
    await triggers.delete(session, trigger_id)
    return Response(status_code=204)
