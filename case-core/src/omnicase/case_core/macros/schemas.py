"""Macro API shapes: actions (the trigger actions plus a templated reply), previews, results."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from omnicase.case_core.cases.schemas import Case
from omnicase.case_core.templates import TemplatedText
from omnicase.case_core.triggers.schemas import AddTags, RemoveTags, SetField
from omnicase.kit.inputs import Integer, PatchInput, StrictInput


class AddReply(TemplatedText):
    type: Literal["add_reply"]


class AddTemplatedNote(TemplatedText):
    type: Literal["add_note"]


MacroAction = Annotated[SetField | AddTags | RemoveTags | AddReply | AddTemplatedNote, Field(discriminator="type")]

_EXAMPLE: dict[str, Any] = {
    "name": "Ask for logs",
    "actions": [
        {"type": "set", "field": "status", "value": "pending"},
        {"type": "add_tags", "tags": ["waiting-logs"]},
        {
            "type": "add_reply",
            "text": "Hi {{requester.first_name}},\n\ncould you send us the logs?",
            "variants": [{"locale": "de", "text": "Hallo {{requester.first_name}},\n\nbitte senden Sie uns die Logs."}],
        },
    ],
}


class MacroCreate(StrictInput):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=1000)
    active: StrictBool = True
    position: Integer = Field(default=0, ge=0, le=1_000_000)
    group_ids: list[uuid.UUID] = Field(default_factory=list, max_length=100, description="Empty: every agent's.")
    actions: list[MacroAction] = Field(min_length=1, max_length=20)


class MacroUpdate(PatchInput):
    model_config = ConfigDict(json_schema_extra={"examples": [{"active": False}]})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=1000)
    active: StrictBool | None = None
    position: Integer | None = Field(default=None, ge=0, le=1_000_000)
    group_ids: list[uuid.UUID] | None = Field(default=None, max_length=100)
    actions: list[MacroAction] | None = Field(default=None, min_length=1, max_length=20)


class Macro(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    active: bool
    position: int
    group_ids: list[uuid.UUID]
    actions: list[MacroAction]
    created_at: datetime
    updated_at: datetime


class MacroList(BaseModel):
    items: list[Macro]


class MacroTarget(StrictInput):
    model_config = ConfigDict(json_schema_extra={"examples": [{"case_id": "0192f0c4-3c1e-7d1a-9a51-5a4b7c3d2e10"}]})

    case_id: uuid.UUID


class RenderedMessage(BaseModel):
    public: bool
    text: str
    html: str


class MacroPreview(BaseModel):
    """What applying would do: field changes (``{old, new}``) and the messages it would add."""

    changes: dict[str, Any]
    messages: list[RenderedMessage]


class MacroApplied(BaseModel):
    case: Case
    messages: list[RenderedMessage]
