"""Brand routes."""

from __future__ import annotations

from fastapi import APIRouter

from omnicase.case_core.brands.schemas import Brand, BrandCreate, BrandUpdate
from omnicase.case_core.brands.service import BrandService, BrandSlugTaken
from omnicase.case_core.errors import BrandNotFound, StillInUse
from omnicase.case_core.identity import Admin, CaseReader
from omnicase.case_core.wiring import ServicesDep
from omnicase.kit.errors import ValidationFailed
from omnicase.kit.identity import AUTH_PROBLEMS
from omnicase.kit.routes import Doc, resource_routes

router = APIRouter(prefix="/api/v1/brands", tags=["brands"], responses=AUTH_PROBLEMS)


def _brands(services: ServicesDep) -> BrandService:
    return services.brands


resource_routes(
    router,
    _brands,
    with_session=True,
    location=True,
    key="brand_id",
    item=Brand,
    body=BrandCreate,
    changes=BrandUpdate,
    create=Doc("create_brand", "Create a brand", (BrandSlugTaken, ValidationFailed), dependencies=[Admin]),
    list_all=Doc(
        "list_brands",
        "List the brands",
        description="Every brand, by slug (a short list: one page).",
        dependencies=[CaseReader],
    ),
    get=Doc("get_brand", "Read a brand", (BrandNotFound,), dependencies=[CaseReader]),
    update=Doc(
        "update_brand",
        "Change a brand",
        (BrandNotFound, ValidationFailed),
        description="The slug is fixed; null clears the logo, colours, schedule, policy and CSAT overrides.",
        dependencies=[Admin],
    ),
    delete=Doc(
        "delete_brand",
        "Delete a brand",
        (BrandNotFound, StillInUse),
        description="Only a brand no case carries.",
        dependencies=[Admin],
    ),
)
