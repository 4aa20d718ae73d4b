"""Dynamic content routes."""

from __future__ import annotations

from fastapi import APIRouter

from omnicase.case_core.dynamic_content.schemas import DynamicContent, DynamicContentCreate, DynamicContentUpdate
from omnicase.case_core.dynamic_content.service import DynamicContentNameTaken, DynamicContentService
from omnicase.case_core.errors import DynamicContentNotFound
from omnicase.case_core.identity import Admin, CaseReader
from omnicase.case_core.wiring import ServicesDep
from omnicase.kit.errors import ValidationFailed
from omnicase.kit.identity import AUTH_PROBLEMS
from omnicase.kit.routes import Doc, resource_routes

router = APIRouter(prefix="/api/v1/dynamic-content", tags=["dynamic content"], responses=AUTH_PROBLEMS)


def _content(services: ServicesDep) -> DynamicContentService:
    return services.dynamic_content


resource_routes(
    router,
    _content,
    with_session=True,
    location=True,
    key="item_id",
    item=DynamicContent,
    body=DynamicContentCreate,
    changes=DynamicContentUpdate,
    create=Doc(
        "create_dynamic_content",
        "Create a dynamic content item",
        (DynamicContentNameTaken, ValidationFailed),
        description="Texts of macros, triggers, auto-responses and surveys use it as {{dc.<name>}}.",
        dependencies=[Admin],
    ),
    list_all=Doc(
        "list_dynamic_content",
        "List dynamic content",
        description="Every item, by name (one page).",
        dependencies=[CaseReader],
    ),
    get=Doc("get_dynamic_content", "Read a dynamic content item", (DynamicContentNotFound,), dependencies=[CaseReader]),
    update=Doc(
        "update_dynamic_content",
        "Change a dynamic content item's text or variants",
        (DynamicContentNotFound, ValidationFailed),
        dependencies=[Admin],
    ),
    delete=Doc(
        "delete_dynamic_content",
        "Delete a dynamic content item",
        (DynamicContentNotFound,),
        description="Texts naming it render it empty from then on.",
        dependencies=[Admin],
    ),
)
