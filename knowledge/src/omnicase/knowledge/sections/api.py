"""Routes of /api/v1/kb/sections."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from omnicase.kit.db import SessionDep
from omnicase.kit.errors import ServiceUnavailable, UnknownReference, ValidationFailed, problem_responses
from omnicase.kit.identity import area_access
from omnicase.kit.pagination import Int32, InvalidCursor, LimitQuery, Page, cursor_query
from omnicase.knowledge.sections.schemas import Section, SectionCreate, SectionUpdate
from omnicase.knowledge.sections.service import SectionNotFound, SectionService
from omnicase.knowledge.state import StateDep

router = APIRouter(prefix="/api/v1/kb/sections", tags=["kb-sections"], dependencies=[Depends(area_access("knowledge"))])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    operation_id="create_kb_section",
    summary="Create a knowledge base section",
    responses=problem_responses(ValidationFailed, UnknownReference, ServiceUnavailable),
)
async def create_section(payload: SectionCreate, session: SessionDep, state: StateDep) -> Section:
    return await SectionService(session).create(payload, state.brands)


@router.get(
    "",
    operation_id="list_kb_sections",
    summary="List one brand's sections in their order",
    responses=problem_responses(InvalidCursor),
)
async def list_sections(
    session: SessionDep,
    brand: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Left out: the default brand.")
    ] = None,
    limit: LimitQuery = 50,
    cursor: Annotated[str | None, cursor_query(Int32, uuid.UUID)] = None,
) -> Page[Section]:
    return await SectionService(session).page(brand, cursor, limit)


@router.get(
    "/{section_id}",
    operation_id="get_kb_section",
    summary="Get a knowledge base section",
    responses=problem_responses(SectionNotFound),
)
async def get_section(section_id: uuid.UUID, session: SessionDep) -> Section:
    return await SectionService(session).get(section_id)


@router.patch(
    "/{section_id}",
    operation_id="update_kb_section",
    summary="Rename, describe or move a section",
    responses=problem_responses(SectionNotFound, ValidationFailed),
)
async def update_section(section_id: uuid.UUID, payload: SectionUpdate, session: SessionDep) -> Section:
    return await SectionService(session).update(section_id, payload)


@router.delete(
    "/{section_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="delete_kb_section",
    summary="Delete a section (its articles stay, without a section)",
    responses=problem_responses(SectionNotFound),
)
async def delete_section(section_id: uuid.UUID, session: SessionDep) -> None:
    await SectionService(session).delete(section_id)
