"""Routes of /api/v1/kb/synonyms."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from omnicase.kit.db import SessionDep
from omnicase.kit.errors import ValidationFailed, problem_responses
from omnicase.kit.identity import CurrentIdentity, area_access
from omnicase.kit.pagination import CursorQuery, InvalidCursor, LimitQuery, Page
from omnicase.kit.routes import Doc, resource_routes
from omnicase.knowledge.locales import Locale
from omnicase.knowledge.state import StateDep
from omnicase.knowledge.synonyms.schemas import SynonymSet, SynonymSetCreate
from omnicase.knowledge.synonyms.service import SynonymService, SynonymSetNotFound

router = APIRouter(prefix="/api/v1/kb/synonyms", tags=["kb-search"], dependencies=[Depends(area_access("knowledge"))])


def _service(session: SessionDep, state: StateDep, identity: CurrentIdentity) -> SynonymService:
    return SynonymService(session, state.analyzer, identity)


ServiceDep = Annotated[SynonymService, Depends(_service)]


@router.get(
    "",
    operation_id="list_kb_synonym_sets",
    summary="List the synonym sets searches apply (of one locale, when given)",
    responses=problem_responses(InvalidCursor),
)
async def list_synonym_sets(
    service: ServiceDep,
    locale: Annotated[Locale | None, Query(description="Only this locale's sets.")] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[SynonymSet]:
    return await service.page(locale, cursor, limit)


resource_routes(
    router,
    _service,
    key="synonym_set_id",
    item=SynonymSet,
    body=SynonymSetCreate,
    create=Doc(
        "create_kb_synonym_set",
        "Create a synonym set: searches in its locale's language find any term for any other",
        (ValidationFailed,),
    ),
    get=Doc("get_kb_synonym_set", "Get a synonym set", (SynonymSetNotFound,)),
    replace=Doc(
        "replace_kb_synonym_set", "Replace a synonym set's locale and terms", (SynonymSetNotFound, ValidationFailed)
    ),
    delete=Doc("delete_kb_synonym_set", "Delete a synonym set", (SynonymSetNotFound,)),
)
