"""``/api/v1/skills``: the skills agents hold and rules require."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from omnicase.kit.clock import utcnow
from omnicase.kit.db import SessionDep
from omnicase.kit.errors import ValidationFailed, problem_responses
from omnicase.kit.identity import AUTH_PROBLEMS
from omnicase.kit.ids import uuid7
from omnicase.kit.pagination import CursorQuery, LimitQuery, Page, decode_id_cursor
from omnicase.routing.access import Admin, Reader
from omnicase.routing.errors import NameTaken, SkillNotFound, StillInUse
from omnicase.routing.skills.repository import SkillRepository
from omnicase.routing.skills.schemas import Skill, SkillCreate, SkillUpdate

router = APIRouter(prefix="/api/v1/skills", tags=["skills"])


def _missing(skill_id: uuid.UUID) -> SkillNotFound:
    return SkillNotFound(f"Skill {skill_id} does not exist.")


@router.post(
    "",
    dependencies=[Admin],
    status_code=201,
    operation_id="create_skill",
    summary="Create a skill",
    responses=AUTH_PROBLEMS | problem_responses(NameTaken, ValidationFailed),
)
async def create_skill(payload: SkillCreate, session: SessionDep) -> Skill:
    repo = SkillRepository(session)
    if await repo.name_taken(payload.name):
        raise NameTaken(f"A skill named {payload.name!r} exists already.")
    skill_id, now = uuid7(), utcnow()
    await repo.insert({"id": skill_id, **payload.model_dump(), "created_at": now, "updated_at": now})
    return await repo.get_or_raise(skill_id, _missing)


@router.get(
    "",
    dependencies=[Reader],
    operation_id="list_skills",
    summary="List skills",
    responses=AUTH_PROBLEMS | problem_responses(ValidationFailed),
)
async def list_skills(session: SessionDep, cursor: CursorQuery = None, limit: LimitQuery = 50) -> Page[Skill]:
    return await SkillRepository(session).page(decode_id_cursor(cursor), limit)


@router.get(
    "/{skill_id}",
    dependencies=[Reader],
    operation_id="get_skill",
    summary="Get a skill",
    responses=AUTH_PROBLEMS | problem_responses(SkillNotFound),
)
async def get_skill(skill_id: uuid.UUID, session: SessionDep) -> Skill:
    return await SkillRepository(session).get_or_raise(skill_id, _missing)


@router.patch(
    "/{skill_id}",
    dependencies=[Admin],
    operation_id="update_skill",
    summary="Rename or describe a skill",
    responses=AUTH_PROBLEMS | problem_responses(SkillNotFound, NameTaken, ValidationFailed),
)
async def update_skill(skill_id: uuid.UUID, payload: SkillUpdate, session: SessionDep) -> Skill:
    repo = SkillRepository(session)
    await repo.get_or_raise(skill_id, _missing)
    values = payload.model_dump(exclude_unset=True, exclude_none=True)
    if "name" in values and await repo.name_taken(values["name"], other_than=skill_id):
        raise NameTaken(f"A skill named {values['name']!r} exists already.")
    if values:
        await repo.update(skill_id, {**values, "updated_at": utcnow()})
    return await repo.get_or_raise(skill_id, _missing)


@router.delete(
    "/{skill_id}",
    dependencies=[Admin],
    status_code=204,
    operation_id="delete_skill",
    summary="Delete a skill (agents lose it; refused while a rule or waiting work requires it)",
    responses=AUTH_PROBLEMS | problem_responses(SkillNotFound, StillInUse),
)
async def delete_skill(skill_id: uuid.UUID, session: SessionDep) -> Response:
    repo = SkillRepository(session)
    await repo.get_or_raise(skill_id, _missing)
    if await repo.required_by_rules(skill_id):
        raise StillInUse(f"Skill {skill_id} is required by an assignment rule; change the rule first.")
    if await repo.required_by_waiting_work(skill_id):
        raise StillInUse(f"Skill {skill_id} is required by cases waiting in a queue; they would never be placed.")
    await repo.delete(skill_id)
    return Response(status_code=204)
