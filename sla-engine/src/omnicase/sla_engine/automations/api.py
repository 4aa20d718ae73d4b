"""Routes of /api/v1/automations."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends

from omnicase.kit.errors import UnknownReference, ValidationFailed
from omnicase.kit.identity import area_access
from omnicase.kit.pagination import Int32, InvalidCursor
from omnicase.kit.routes import Doc, built_on_session, resource_routes
from omnicase.sla_engine.automations.schemas import Automation, AutomationCreate
from omnicase.sla_engine.automations.service import AutomationNotFound, AutomationService

router = APIRouter(prefix="/api/v1/automations", tags=["automations"], dependencies=[Depends(area_access("sla"))])

resource_routes(
    router,
    built_on_session(AutomationService),
    key="automation_id",
    item=Automation,
    body=AutomationCreate,
    cursor=(Int32, uuid.UUID),
    limit_first=True,
    create=Doc("create_automation", "Create an automation", (ValidationFailed, UnknownReference)),
    list_=Doc("list_automations", "List automations in evaluation order", (InvalidCursor,)),
    get=Doc("get_automation", "Get an automation", (AutomationNotFound,)),
    replace=Doc(
        "replace_automation",
        "Replace an automation (cases pick it up with their next change)",
        (AutomationNotFound, ValidationFailed, UnknownReference),
    ),
    delete=Doc("delete_automation", "Delete an automation", (AutomationNotFound,)),
)
