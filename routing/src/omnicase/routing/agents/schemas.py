from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from omnicase.kit.events import Channel
from omnicase.kit.inputs import EmailAddress as Email
from omnicase.kit.inputs import Integer, PatchInput, StrictInput
from omnicase.routing.engine import Presence, VoiceStatus
from omnicase.routing.schemas import Name

Language = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$")
]
Level = Annotated[int, Field(ge=1, le=10, description="1 (novice) to 10 (expert).")]
# A light check: the address is only shown to people, never mailed by routing.
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


WrapUp = Annotated[
    Integer,
    Field(
        ge=0,
        le=3600,
        description="Seconds the agent stays busy after a call ends (after-call work), then back to what they said.",
    ),
]

# A queue listed twice is refused (the service's check, a 422), as the schema says.
_UNIQUE: dict[str, Any] = {"uniqueItems": True}


class SkillLevel(StrictInput):
    skill_id: uuid.UUID
    level: Level = Field(examples=[7])


class AgentCreate(StrictInput):
    user_id: uuid.UUID = Field(description="The agent's user id (identity is the gateway's).")
    name: Name = Field(examples=["Ada Lovelace"])
    email: Email | None = Field(default=None, examples=["ada@example.com"])
    languages: list[Language] = Field(default_factory=list, max_length=50, examples=[["en", "de"]])
    capacity: Integer = Field(
        default=10, ge=0, le=1000, description="Total capacity units (an email costs 1, a chat 3, a call 5 by default)."
    )
    skills: list[SkillLevel] = Field(default_factory=list, max_length=500)
    group_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=500, description="Queues the agent works.", json_schema_extra=_UNIQUE
    )
    voice_wrap_up_seconds: WrapUp = 0


class AgentUpdate(PatchInput):
    nullable = frozenset({"email"})

    name: Name | None = None
    email: Email | None = None
    languages: list[Language] | None = Field(default=None, max_length=50)
    capacity: Integer | None = Field(default=None, ge=0, le=1000)
    skills: list[SkillLevel] | None = Field(default=None, max_length=500, description="Replaces the agent's skills.")
    group_ids: list[uuid.UUID] | None = Field(
        default=None, max_length=500, description="Replaces the agent's queues.", json_schema_extra=_UNIQUE
    )
    voice_wrap_up_seconds: WrapUp | None = None


class PresenceUpdate(StrictInput):
    status: Presence = Field(examples=["online"])
    reason: Reason | None = Field(default=None, examples=["lunch"], description="Why away or offline.")


class PresenceState(BaseModel):
    status: Presence
    reason: str | None
    since: datetime


class VoiceStatusUpdate(StrictInput):
    status: Literal["available", "offline"] = Field(
        examples=["available"],
        description="`available`: the agent takes calls (a call's case may be offered to them); `offline`: not. "
        "Busy is routing's own: from a call's answer (or placing one) to its end and the wrap-up after.",
    )
    reason: Reason | None = Field(default=None, examples=["on a break"])


class VoiceState(BaseModel):
    status: VoiceStatus = Field(description="available, busy (on a call or wrapping one up) or offline for calls.")
    call_id: uuid.UUID | None = Field(description="The call (intake-web's call id) the agent is on.")
    wrap_up_until: datetime | None = Field(
        description="The end of the wrap-up after a call; then back to what the agent last said."
    )
    since: datetime


class HeldSkill(BaseModel):
    skill_id: uuid.UUID
    name: str
    level: int


class Agent(BaseModel):
    user_id: uuid.UUID
    name: str
    email: str | None
    languages: list[str]
    capacity: int
    used_capacity: int
    free_capacity: int
    active_cases: int
    presence: PresenceState
    voice: VoiceState
    voice_wrap_up_seconds: int
    skills: list[HeldSkill]
    group_ids: list[uuid.UUID]
    last_assigned_at: datetime | None
    created_at: datetime
    updated_at: datetime


class HeldWork(BaseModel):
    case_id: uuid.UUID
    number: int
    subject: str
    channel: Channel
    state: str = Field(description="offered (awaiting acceptance), assigned (by routing) or manual.")
    cost: int
    since: datetime | None


class AgentLoad(BaseModel):
    user_id: uuid.UUID
    presence: Presence
    capacity: int
    used_capacity: int
    free_capacity: int
    active_cases: int
    work: list[HeldWork]
