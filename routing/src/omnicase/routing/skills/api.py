"""``/api/v1/skills``: the skills agents hold and rules require."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from omnicase.kit.db import SessionDep
from omnicase.kit.errors import ValidationFailed, problem_responses
from omnicase.kit.identity import AUTH_PROBLEMS
from omnicase.kit.pagination import CursorQuery, LimitQuery, Page, decode_id_cursor
from omnicase.routing.access import Admin, Reader
from omnicase.routing.errors import NameTaken, SkillNotFound, StillInUse
from omnicase.routing.skills.schemas import Skill, SkillCreate, SkillUpdate
from omnicase.routing.skills.service import SkillService

router = APIRouter(prefix="/api/v1/skills", tags=["skills"])


@router.post(
    "",
    dependencies=[Admin],
    status_code=201,
    operation_id="create_skill",
    summary="Create a skill",
    responses=AUTH_PROBLEMS | problem_responses(NameTaken, ValidationFailed),
)
async def create_skill(payload: SkillCreate, session: SessionDep) -> Skill:
    return await SkillService(session).create(payload)


@router.get(
    "",
    dependencies=[Reader],
    operation_id="list_skills",
    summary="List skills",
    responses=AUTH_PROBLEMS | problem_responses(ValidationFailed),
)
async def list_skills(session: SessionDep, cursor: CursorQuery = None, limit: LimitQuery = 50) -> Page[Skill]:
    return await SkillService(session).page(decode_id_cursor(cursor), limit)


@router.get(
    "/{skill_id}",
    dependencies=[Reader],
    operation_id="get_skill",
    summary="Get a skill",
    responses=AUTH_PROBLEMS | problem_responses(SkillNotFound),
)
async def get_skill(skill_id: uuid.UUID, session: SessionDep) -> Skill:
    return await SkillService(session).get(skill_id)


@router.patch(
    "/{skill_id}",
    dependencies=[Admin],
    operation_id="update_skill",
    summary="Rename or describe a skill",
    responses=AUTH_PROBLEMS | problem_responses(SkillNotFound, NameTaken, ValidationFailed),
)
async def update_skill(skill_id: uuid.UUID, payload: SkillUpdate, session: SessionDep) -> Skill:
    return await SkillService(session).update(skill_id, payload)


@router.delete(
    "/{skill_id}",
    dependencies=[Admin],
    status_code=204,
    operation_id="delete_skill",
    summary="Delete a skill (agents lose it; refused while a rule or waiting work requires it)",
    responses=AUTH_PROBLEMS | problem_responses(SkillNotFound, StillInUse),
)
async def delete_skill(skill_id: uuid.UUID, session: SessionDep) -> Response:
    await SkillService(session).delete(skill_id)
    return Response(status_code=204)
