"""Macro routes: definitions (admins), the ones available to an agent, preview and apply."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response
from pydantic import WithJsonSchema

from omnicase.case_core.cases.snapshot import to_case
from omnicase.case_core.errors import CaseClosed, CaseNotFound, NoRecipient
from omnicase.case_core.http import ETAG_PATTERN, etag, expected_version
from omnicase.case_core.identity import Admin, CaseReader, CaseWriter
from omnicase.case_core.macros.schemas import (
    Macro,
    MacroApplied,
    MacroCreate,
    MacroList,
    MacroPreview,
    MacroTarget,
    MacroUpdate,
)
from omnicase.case_core.macros.service import MacroInactive, MacroNotFound, MacroService
from omnicase.case_core.membership import CallerGroups, CallerMembership, MembershipUnavailable
from omnicase.case_core.wiring import ServicesDep
from omnicase.kit.db import SessionDep
from omnicase.kit.errors import BadRequest, PreconditionFailed, ValidationFailed, problem_responses
from omnicase.kit.identity import AUTH_PROBLEMS, CurrentIdentity
from omnicase.kit.routes import Doc, resource_routes

router = APIRouter(
    prefix="/api/v1/macros", tags=["macros"], responses=AUTH_PROBLEMS | problem_responses(MembershipUnavailable)
)


def _macros(services: ServicesDep) -> MacroService:
    return services.macros


MacrosDep = Annotated[MacroService, Depends(_macros)]


@router.get("", operation_id="list_macros", summary="Macros available to the caller", response_model=MacroList)
async def list_macros(
    session: SessionDep,
    macros: MacrosDep,
    actor: CaseReader,
    identity: CurrentIdentity,
    groups: CallerGroups,
) -> MacroList:
    """Active macros for everyone and for the caller's groups; admins see every macro, inactive ones included."""
    rows = await macros.available(session, groups)
    return MacroList(items=[Macro.model_validate(row, from_attributes=True) for row in rows])


resource_routes(
    router,
    _macros,
    with_session=True,
    location=True,
    key="macro_id",
    item=Macro,
    body=MacroCreate,
    changes=MacroUpdate,
    create=Doc("create_macro", "Create a macro", (ValidationFailed,), dependencies=[Admin]),
    get=Doc("get_macro", "Read a macro", (MacroNotFound,), dependencies=[CaseReader]),
    update=Doc("update_macro", "Change a macro", (MacroNotFound, ValidationFailed), dependencies=[Admin]),
    delete=Doc("delete_macro", "Delete a macro", (MacroNotFound,), dependencies=[Admin]),
)


@router.post(
    "/{macro_id}/preview",
    operation_id="preview_macro",
    summary="What a macro would do to a case",
    response_model=MacroPreview,
    responses=problem_responses(MacroNotFound, MacroInactive, CaseNotFound, CaseClosed, ValidationFailed),
)
async def preview_macro(
    macro_id: uuid.UUID,
    target: MacroTarget,
    session: SessionDep,
    macros: MacrosDep,
    actor: CaseReader,
    identity: CurrentIdentity,
    membership: CallerMembership,
) -> MacroPreview:
    """Nothing is kept: the changes are tried in a transaction that is rolled back, the texts only rendered."""
    changes, messages = await macros.preview(session, macro_id, target.case_id, actor, identity.name or "", membership)
    return MacroPreview(changes=changes, messages=messages)


@router.post(
    "/{macro_id}/apply",
    operation_id="apply_macro",
    summary="Apply a macro to a case",
    response_model=MacroApplied,
    responses=problem_responses(
        MacroNotFound,
        MacroInactive,
        CaseNotFound,
        CaseClosed,
        NoRecipient,
        ValidationFailed,
        PreconditionFailed,
        BadRequest,
    ),
)
async def apply_macro(
    macro_id: uuid.UUID,
    target: MacroTarget,
    session: SessionDep,
    macros: MacrosDep,
    actor: CaseWriter,
    identity: CurrentIdentity,
    membership: CallerMembership,
    response: Response,
    if_match: Annotated[
        str | None,
        # Optional, and a string when sent (a header cannot be null).
        WithJsonSchema({"type": "string", "pattern": ETAG_PATTERN, "examples": ['"3"']}),
        Header(description="The case's ETag: applied only if nobody changed it since."),
    ] = None,
) -> MacroApplied:
    """Every action or none; replies go out to the requester, the case's rules (triggers) run as after any change."""
    version = expected_version(if_match) if if_match is not None else None
    applied = await macros.apply(
        session,
        macro_id,
        target.case_id,
        actor,
        identity.name or "",
        expected_version=version,
        membership=membership,
    )
    response.headers["ETag"] = etag(applied.case.version)
    return MacroApplied(case=to_case(applied.case), messages=applied.messages)
