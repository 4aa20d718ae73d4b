"""Routes of /api/v1/sla/policies."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends

from omnicase.kit.errors import UnknownReference, ValidationFailed
from omnicase.kit.identity import area_access
from omnicase.kit.pagination import Int32, InvalidCursor
from omnicase.kit.routes import Doc, built_on_session, resource_routes
from omnicase.sla_engine.policies.schemas import Policy, PolicyCreate
from omnicase.sla_engine.policies.service import PolicyNotFound, PolicyService

router = APIRouter(prefix="/api/v1/sla/policies", tags=["sla-policies"], dependencies=[Depends(area_access("sla"))])

resource_routes(
    router,
    built_on_session(PolicyService),
    key="policy_id",
    item=Policy,
    body=PolicyCreate,
    cursor=(Int32, uuid.UUID),
    limit_first=True,
    create=Doc("create_sla_policy", "Create an SLA policy", (ValidationFailed, UnknownReference)),
    list_=Doc("list_sla_policies", "List SLA policies in evaluation order", (InvalidCursor,)),
    get=Doc("get_sla_policy", "Get an SLA policy", (PolicyNotFound,)),
    replace=Doc(
        "replace_sla_policy",
        "Replace an SLA policy (cases pick it up with their next change)",
        (PolicyNotFound, ValidationFailed, UnknownReference),
    ),
    delete=Doc("delete_sla_policy", "Delete an SLA policy", (PolicyNotFound,)),
)
