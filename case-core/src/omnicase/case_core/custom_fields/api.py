"""Custom field definition routes."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from omnicase.case_core.custom_fields.schemas import CustomField, CustomFieldCreate, CustomFieldUpdate
from omnicase.case_core.custom_fields.service import CustomFieldKeyTaken, CustomFieldTypeConflict
from omnicase.case_core.errors import CustomFieldNotFound
from omnicase.case_core.identity import Admin, CaseReader
from omnicase.case_core.wiring import ServicesDep
from omnicase.kit.db import SessionDep
from omnicase.kit.errors import ValidationFailed, problem_responses
from omnicase.kit.identity import AUTH_PROBLEMS
from omnicase.kit.pagination import Page

router = APIRouter(prefix="/api/v1/custom-fields", tags=["custom fields"], responses=AUTH_PROBLEMS)


@router.get(
    "", operation_id="list_custom_fields", summary="List custom field definitions", response_model=Page[CustomField]
)
async def list_custom_fields(session: SessionDep, services: ServicesDep, actor: CaseReader) -> Page[CustomField]:
    """Every definition, by key (a short list: one page)."""
    rows = await services.custom_fields.all(session)
    return Page[CustomField](items=[CustomField.model_validate(row, from_attributes=True) for row in rows])


@router.post(
    "",
    operation_id="create_custom_field",
    summary="Define a custom field",
    status_code=201,
    response_model=CustomField,
    responses=problem_responses(CustomFieldKeyTaken, ValidationFailed),
)
async def create_custom_field(
    data: CustomFieldCreate, session: SessionDep, services: ServicesDep, actor: Admin, response: Response
) -> CustomField:
    row = await services.custom_fields.create(session, data)
    response.headers["Location"] = f"/api/v1/custom-fields/{row.id}"
    return CustomField.model_validate(row, from_attributes=True)


@router.get(
    "/{field_id}",
    operation_id="get_custom_field",
    summary="Read a custom field definition",
    response_model=CustomField,
    responses=problem_responses(CustomFieldNotFound),
)
async def get_custom_field(
    field_id: uuid.UUID, session: SessionDep, services: ServicesDep, actor: CaseReader
) -> CustomField:
    return CustomField.model_validate(await services.custom_fields.get(session, field_id), from_attributes=True)


@router.patch(
    "/{field_id}",
    operation_id="update_custom_field",
    summary="Change a custom field definition",
    response_model=CustomField,
    responses=problem_responses(CustomFieldNotFound, CustomFieldTypeConflict, ValidationFailed),
)
async def update_custom_field(
    field_id: uuid.UUID, data: CustomFieldUpdate, session: SessionDep, services: ServicesDep, actor: Admin
) -> CustomField:
    """Key and type are fixed; label, options, pattern, required-on-solve and active can change."""
    return CustomField.model_validate(
        await services.custom_fields.update(session, field_id, data), from_attributes=True
    )


@router.delete(
    "/{field_id}",
    operation_id="delete_custom_field",
    summary="Delete a custom field definition",
    status_code=204,
    response_class=Response,
    responses=problem_responses(CustomFieldNotFound),
)
async def delete_custom_field(
    field_id: uuid.UUID, session: SessionDep, services: ServicesDep, actor: Admin
) -> Response:
    """Cases stop accepting the field; set `active: false` instead to keep it readable but closed."""
    await services.custom_fields.delete(session, field_id)
    return Response(status_code=204)
