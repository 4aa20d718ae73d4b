"""Trigger routes: the ordered rules (admins change them), their runs on a case, and dry runs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
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
from omnicase.kit.errors import StateConflict, UnknownReference, ValidationFailed, problem_responses
from omnicase.kit.identity import AUTH_PROBLEMS
from omnicase.kit.routes import Doc, resource_routes

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
    "/dry-run",
    operation_id="dry_run_triggers",
    summary="Which triggers would fire for a case",
    response_model=TriggerRun,
    responses=problem_responses(CaseNotFound, CaseClosed, StateConflict, ValidationFailed, UnknownReference),
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


# After /dry-run and /runs, which a trigger id would otherwise match.
resource_routes(
    router,
    _triggers,
    with_session=True,
    location=True,
    key="trigger_id",
    item=Trigger,
    body=TriggerCreate,
    changes=TriggerUpdate,
    create=Doc("create_trigger", "Create a trigger", (ValidationFailed, UnknownReference), dependencies=[Admin]),
    get=Doc("get_trigger", "Read a trigger", (TriggerNotFound,), dependencies=[CaseReader]),
    update=Doc(
        "update_trigger",
        "Change, reorder or deactivate a trigger",
        (TriggerNotFound, ValidationFailed, UnknownReference),
        dependencies=[Admin],
    ),
    delete=Doc("delete_trigger", "Delete a trigger", (TriggerNotFound,), dependencies=[Admin]),
)
