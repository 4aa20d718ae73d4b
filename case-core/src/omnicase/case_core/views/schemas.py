"""View API shapes: the saved filters (the case list's), columns, sort, who sees it, and counts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from omnicase.case_core.cases.schemas import CaseType
from omnicase.kit.events import CaseStatus, Channel, Priority
from omnicase.kit.inputs import Integer, PatchInput, StrictInput

Visibility = Literal["personal", "group", "everyone"]
Sort = Literal["created_at", "-created_at", "updated_at", "-updated_at", "number", "-number"]
ViewColumn = Literal[
    "number",
    "subject",
    "status",
    "priority",
    "type",
    "channel",
    "requester_id",
    "organization_id",
    "assignee_id",
    "group_id",
    "brand",
    "brand_id",
    "tags",
    "created_at",
    "updated_at",
    "solved_at",
]
DEFAULT_COLUMNS: list[ViewColumn] = ["number", "subject", "requester_id", "status", "priority", "updated_at"]


class ViewFilters(StrictInput):
    """The case list's filters; ``assignee: "me"`` is whoever opens the view."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"status": ["new", "open"], "assignee": "me"}],
            # What _consistent checks: unassigned and an assignee exclude each other.
            "not": {
                "required": ["unassigned", "assignee"],
                "properties": {"unassigned": {"const": True}, "assignee": {"type": "string"}},
            },
        }
    )

    status: list[CaseStatus] = Field(default_factory=list)
    priority: list[Priority] = Field(default_factory=list)
    channel: list[Channel] = Field(default_factory=list)
    type: list[CaseType] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list, max_length=20, description="Cases carrying every one of these.")
    assignee: Literal["me"] | uuid.UUID | None = None
    unassigned: StrictBool = False
    group_id: uuid.UUID | None = None
    brand: str | None = Field(default=None, max_length=100, description="Cases of this brand slug.")
    brand_id: uuid.UUID | None = Field(default=None, description="Cases of this brand (`/api/v1/brands`).")
    organization_id: uuid.UUID | None = None
    requester_id: uuid.UUID | None = None
    q: str | None = Field(default=None, max_length=500, description="Full-text search, as the case list's `q`.")

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return [tag.strip().lower() for tag in value if tag.strip()]

    @model_validator(mode="after")
    def _consistent(self) -> ViewFilters:
        if self.unassigned and self.assignee is not None:
            raise ValueError("unassigned and assignee exclude each other")
        return self


class ViewCreate(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "My open cases", "filters": {"status": ["new", "open"], "assignee": "me"}}],
            # What _group checks, said in the schema: a group view names its group, no other view does.
            "if": {"properties": {"visibility": {"const": "group"}}, "required": ["visibility"]},
            "then": {"required": ["group_id"], "properties": {"group_id": {"type": "string"}}},
            "else": {"properties": {"group_id": {"type": "null"}}},
        }
    )

    name: str = Field(min_length=1, max_length=200)
    visibility: Visibility = Field(default="personal", description="group and everyone: admins only.")
    group_id: uuid.UUID | None = Field(default=None, description="The group a `group` view is shared with.")
    filters: ViewFilters = Field(default_factory=ViewFilters)
    columns: list[ViewColumn] = Field(default_factory=lambda: list(DEFAULT_COLUMNS), min_length=1, max_length=15)
    sort: Sort = "-updated_at"
    position: Integer = Field(default=0, ge=0, le=1_000_000, description="Order in the sidebar.")

    @model_validator(mode="after")
    def _group(self) -> ViewCreate:
        if (self.visibility == "group") != (self.group_id is not None):
            raise ValueError("group_id is required for a group view, and only for one")
        return self


class ViewUpdate(PatchInput):
    model_config = ConfigDict(json_schema_extra={"examples": [{"sort": "number"}]})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    filters: ViewFilters | None = None
    columns: list[ViewColumn] | None = Field(default=None, min_length=1, max_length=15)
    sort: Sort | None = None
    position: Integer | None = Field(default=None, ge=0, le=1_000_000)


class View(BaseModel):
    id: uuid.UUID
    name: str
    visibility: Visibility
    owner: str | None = Field(description="Who a personal view belongs to (`user:<id>`).")
    group_id: uuid.UUID | None
    filters: ViewFilters
    columns: list[ViewColumn]
    sort: Sort
    position: int
    created_at: datetime
    updated_at: datetime


class ViewList(BaseModel):
    items: list[View]


class ViewCount(BaseModel):
    view_id: uuid.UUID
    count: int


class ViewCounts(BaseModel):
    items: list[ViewCount]
