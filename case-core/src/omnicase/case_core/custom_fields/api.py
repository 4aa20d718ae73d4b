"""Custom field definition routes."""

from __future__ import annotations

from fastapi import APIRouter

from omnicase.case_core.custom_fields.schemas import CustomField, CustomFieldCreate, CustomFieldUpdate
from omnicase.case_core.custom_fields.service import CustomFieldKeyTaken, CustomFieldService, CustomFieldTypeConflict
from omnicase.case_core.errors import CustomFieldNotFound
from omnicase.case_core.identity import Admin, CaseReader
from omnicase.case_core.wiring import ServicesDep
from omnicase.kit.errors import ValidationFailed
from omnicase.kit.identity import AUTH_PROBLEMS
from omnicase.kit.routes import Doc, resource_routes

router = APIRouter(prefix="/api/v1/custom-fields", tags=["custom fields"], responses=AUTH_PROBLEMS)


def _custom_fields(services: ServicesDep) -> CustomFieldService:
    return services.custom_fields


resource_routes(
    router,
    _custom_fields,
    with_session=True,
    location=True,
    key="field_id",
    item=CustomField,
    body=CustomFieldCreate,
    changes=CustomFieldUpdate,
    create=Doc(
        "create_custom_field", "Define a custom field", (CustomFieldKeyTaken, ValidationFailed), dependencies=[Admin]
    ),
    list_all=Doc(
        "list_custom_fields",
        "List custom field definitions",
        description="Every definition, by key (a short list: one page).",
        dependencies=[CaseReader],
    ),
    get=Doc("get_custom_field", "Read a custom field definition", (CustomFieldNotFound,), dependencies=[CaseReader]),
    update=Doc(
        "update_custom_field",
        "Change a custom field definition",
        (CustomFieldNotFound, CustomFieldTypeConflict, ValidationFailed),
        description="Key and type are fixed; label, options, pattern, required-on-solve and active can change.",
        dependencies=[Admin],
    ),
    delete=Doc(
        "delete_custom_field",
        "Delete a custom field definition",
        (CustomFieldNotFound,),
        description="Cases stop accepting the field; set `active: false` instead to keep it readable but closed.",
        dependencies=[Admin],
    ),
)
