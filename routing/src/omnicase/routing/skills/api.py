"""``/api/v1/skills``: the skills agents hold and rules require."""

from __future__ import annotations

from fastapi import APIRouter

from omnicase.kit.errors import ValidationFailed
from omnicase.kit.identity import AUTH_PROBLEMS
from omnicase.kit.routes import Doc, built_on_session, resource_routes
from omnicase.routing.access import Admin, Reader
from omnicase.routing.errors import NameTaken, SkillNotFound, StillInUse
from omnicase.routing.skills.schemas import Skill, SkillCreate, SkillUpdate
from omnicase.routing.skills.service import SkillService

router = APIRouter(prefix="/api/v1/skills", tags=["skills"])

resource_routes(
    router,
    built_on_session(SkillService),
    key="skill_id",
    item=Skill,
    body=SkillCreate,
    changes=SkillUpdate,
    problems=AUTH_PROBLEMS,
    create=Doc("create_skill", "Create a skill", (NameTaken, ValidationFailed), dependencies=[Admin]),
    list_=Doc("list_skills", "List skills", (ValidationFailed,), dependencies=[Reader]),
    get=Doc("get_skill", "Get a skill", (SkillNotFound,), dependencies=[Reader]),
    update=Doc(
        "update_skill", "Rename or describe a skill", (SkillNotFound, NameTaken, ValidationFailed), dependencies=[Admin]
    ),
    delete=Doc(
        "delete_skill",
        "Delete a skill (agents lose it; refused while a rule or waiting work requires it)",
        (SkillNotFound, StillInUse),
        dependencies=[Admin],
    ),
)
