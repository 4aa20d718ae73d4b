"""Case resources of the API."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal, cast

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from omnicase.case_core.cases.repository import CaseHistoryRow, CaseValues
from omnicase.case_core.contacts.schemas import Address, PhoneNumber
from omnicase.kit.events import CaseStatus, Channel, Priority
from omnicase.kit.inputs import CASE_TAG_PATTERN, Integer, PatchInput, StrictInput

CaseType = Literal["question", "incident", "problem", "task"]

_TAG = re.compile(r"^[a-z0-9][a-z0-9_\-:./]{0,99}$")
# What a client may send as a tag (the schema says exactly this): stored trimmed and lowercased.
TAG_PATTERN = CASE_TAG_PATTERN
Tag = Annotated[str, StringConstraints(pattern=TAG_PATTERN), AfterValidator(lambda tag: tag.strip().lower())]


def normalize_tags(tags: list[str]) -> list[str]:
    """Lowercase, trimmed, unique, in first-seen order; raises ValueError on a malformed tag."""
    result: list[str] = []
    for tag in tags:
        cleaned = tag.strip().lower()
        if not _TAG.match(cleaned):
            raise ValueError(f"tag {tag!r} must be 1-100 of a-z 0-9 _ - : . / and start with a letter or digit")
        if cleaned not in result:
            result.append(cleaned)
    return result


class RequesterInput(StrictInput):
    """Who the case is for: found by email or phone, created if unknown."""

    # At least one of the two, as _one_identity checks (a JSON Schema can say this one).
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["email"], "properties": {"email": {"type": "string", "minLength": 1}}},
                {"required": ["phone"], "properties": {"phone": {"type": "string", "minLength": 1}}},
            ]
        }
    )

    # Each is checked as a contact's are (a 422 naming it), not left out of the requester unread.
    email: Address | None = Field(default=None, max_length=320, examples=["ada@example.com"])
    phone: PhoneNumber | None = Field(default=None, max_length=40, examples=["+4915112345678"])
    name: str | None = Field(default=None, max_length=200, examples=["Ada Lovelace"])

    @model_validator(mode="after")
    def _one_identity(self) -> RequesterInput:
        if not self.email and not self.phone:
            raise ValueError("give an email or a phone")
        return self


class Satisfaction(BaseModel):
    """How the requester rated the support of the case (they may change it until it closes, for 28 days)."""

    rating: Literal["good", "bad"]
    reason: str | None = Field(default=None, description="For bad: the reason picked from the admin's list.")
    comment: str | None = None
    rated_at: datetime
    survey_id: uuid.UUID


class Case(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0190f5d2-7c1e-7a3b-9d4e-2f6a8b0c1d2e",
                    "number": 1234,
                    "subject": "Printer on fire",
                    "description": "It started smoking after the update.",
                    "status": "open",
                    "priority": "high",
                    "type": "incident",
                    "channel": "email",
                    "requester_id": "0190f5d2-7c1e-7a3b-9d4e-2f6a8b0c1d2f",
                    "organization_id": None,
                    "assignee_id": None,
                    "group_id": None,
                    "brand": "acme",
                    "brand_id": "0190f5d2-7c1e-7a3b-9d4e-2f6a8b0c1d60",
                    "tags": ["printer", "hardware"],
                    "custom_fields": {"order_number": "A-1001"},
                    "followers": [],
                    "language": None,
                    "conversation_id": None,
                    "follow_up_of": None,
                    "problem_id": None,
                    "merged_into": None,
                    "version": 3,
                    "created_at": "2026-01-05T09:00:00Z",
                    "updated_at": "2026-01-05T09:12:00Z",
                    "first_public_reply_at": "2026-01-05T09:12:00Z",
                    "solved_at": None,
                    "closed_at": None,
                }
            ]
        }
    )

    id: uuid.UUID
    number: int = Field(description="Human-friendly number; increasing, with possible gaps.")
    subject: str
    description: str
    status: CaseStatus
    priority: Priority
    type: CaseType | None
    channel: Channel
    requester_id: uuid.UUID | None
    organization_id: uuid.UUID | None
    assignee_id: uuid.UUID | None
    group_id: uuid.UUID | None
    brand: str | None = Field(description="The brand's slug (as its channel named it).")
    brand_id: uuid.UUID | None = Field(
        default=None, description="The brand `brand` names (`/api/v1/brands`); null: no brand defined by that slug."
    )
    tags: list[str]
    custom_fields: dict[str, Any]
    followers: list[uuid.UUID]
    language: str | None
    conversation_id: str | None
    follow_up_of: uuid.UUID | None = Field(description="The closed case this one follows up.")
    problem_id: uuid.UUID | None = Field(description="For an incident: the problem case it is linked to.")
    merged_into: uuid.UUID | None
    version: int = Field(description="Also the ETag; send it back in If-Match to update.")
    created_at: datetime
    updated_at: datetime
    first_public_reply_at: datetime | None
    solved_at: datetime | None
    closed_at: datetime | None
    satisfaction: Satisfaction | None = Field(
        default=None, description="The requester's latest satisfaction rating through a survey; null: not rated."
    )
    page_name: ClassVar[str] = "CasePage"


class CaseChanges(PatchInput):
    """Fields to change; a field left out stays as it is, ``null`` clears it where it can be cleared."""

    nullable = frozenset(
        {
            "type",
            "assignee_id",
            "group_id",
            "brand",
            "requester_id",
            "custom_fields",
            "followers",
            "problem_id",
            "language",
        }
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"status": "pending", "priority": "high", "add_tags": ["vip"]}],
            # What _check_problem checks of the body when it gives both: only an incident links to
            # a problem (given one alone, the case's stored type or link decides: a 409).
            "if": {"required": ["problem_id", "type"], "properties": {"problem_id": {"type": "string"}}},
            "then": {"properties": {"type": {"const": "incident"}}},
        }
    )

    subject: str | None = Field(default=None, min_length=1, max_length=500)
    status: CaseStatus | None = None
    priority: Priority | None = None
    type: CaseType | None = None
    assignee_id: uuid.UUID | None = None
    group_id: uuid.UUID | None = None
    brand: str | None = Field(default=None, max_length=100)
    requester_id: uuid.UUID | None = None
    tags: list[Tag] | None = Field(default=None, max_length=100, description="Replaces every tag.")
    add_tags: list[Tag] = Field(default_factory=list, max_length=100)
    remove_tags: list[Tag] = Field(default_factory=list, max_length=100)
    custom_fields: dict[str, Any] | None = Field(
        default=None, description="Merged into the case's values; a key set to null removes it."
    )
    followers: list[uuid.UUID] | None = Field(default=None, max_length=100)
    problem_id: uuid.UUID | None = None
    language: str | None = Field(default=None, max_length=20)

    @field_validator("tags", "add_tags", "remove_tags")
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else normalize_tags(value)

    def requested(self) -> CaseValues:
        """The fields the caller actually sent (tag edits and custom fields handled apart)."""
        skip = {"add_tags", "remove_tags", "custom_fields"}
        # Each field left is a column of CaseValues' name, of its type (or null where it may be null).
        return cast("CaseValues", {name: getattr(self, name) for name in self.model_fields_set if name not in skip})


# Every status but closed (a case is closed only after it was solved); the schema lists these.
CREATABLE_STATUSES = [status.value for status in CaseStatus if status is not CaseStatus.CLOSED]


class CaseCreate(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "subject": "Cannot log in",
                    "description": "Customer called: password reset mail never arrives.",
                    "requester": {"email": "ada@example.com", "name": "Ada Lovelace"},
                    "channel": "voice",
                    "priority": "high",
                    "tags": ["login"],
                }
            ],
            # What _one_requester checks: a requester to find or create, or the id of one, not both.
            "not": {
                "required": ["requester", "requester_id"],
                "properties": {"requester": {"type": "object"}, "requester_id": {"type": "string"}},
            },
            # What _check_problem checks of the body: only an incident links to a problem.
            "if": {"required": ["problem_id"], "properties": {"problem_id": {"type": "string"}}},
            "then": {"required": ["type"], "properties": {"type": {"const": "incident"}}},
        }
    )

    subject: str = Field(min_length=1, max_length=500)
    description: str = Field(default="", max_length=100_000, description="Becomes the case's first message.")
    requester: RequesterInput | None = None
    requester_id: uuid.UUID | None = None
    channel: Channel = Channel.API
    status: Annotated[CaseStatus, WithJsonSchema({"type": "string", "enum": CREATABLE_STATUSES})] = CaseStatus.NEW
    priority: Priority = Priority.NORMAL
    type: CaseType | None = None
    assignee_id: uuid.UUID | None = None
    group_id: uuid.UUID | None = None
    brand: str | None = Field(default=None, max_length=100)
    tags: list[Tag] = Field(default_factory=list, max_length=100)
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    problem_id: uuid.UUID | None = None
    language: str | None = Field(default=None, max_length=20)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return normalize_tags(value)

    @model_validator(mode="after")
    def _one_requester(self) -> CaseCreate:
        if self.requester is not None and self.requester_id is not None:
            raise ValueError("give requester or requester_id, not both")
        if self.status not in CREATABLE_STATUSES:
            raise ValueError("a case cannot be created closed")
        return self


class BulkItem(StrictInput):
    case_id: uuid.UUID
    version: Integer | None = Field(
        default=None, ge=1, le=2**31 - 1, description="If given, the update applies only at this version."
    )
    changes: CaseChanges


class BulkUpdate(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {"case_id": "0190f5d2-7c1e-7a3b-9d4e-2f6a8b0c1d2e", "changes": {"status": "solved"}},
                        {
                            "case_id": "0190f5d2-7c1e-7a3b-9d4e-2f6a8b0c1d30",
                            "version": 4,
                            "changes": {"priority": "low"},
                        },
                    ]
                }
            ]
        }
    )

    items: list[BulkItem] = Field(min_length=1, max_length=100)


class BulkResult(BaseModel):
    case_id: uuid.UUID
    status: int = Field(description="What this case's update alone would have answered (200, 404, 409, 412, 422).")
    case: Case | None = None
    problem: dict[str, Any] | None = None


class BulkResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "results": [
                        {"case_id": "0190f5d2-7c1e-7a3b-9d4e-2f6a8b0c1d2e", "status": 200, "case": None},
                        {
                            "case_id": "0190f5d2-7c1e-7a3b-9d4e-2f6a8b0c1d30",
                            "status": 412,
                            "problem": {
                                "type": "https://omnicase.dev/problems/precondition-failed",
                                "title": "Precondition failed",
                                "status": 412,
                                "detail": "Case 0190f5d2-… is at version 5, not 4; someone else changed it.",
                            },
                        },
                    ]
                }
            ]
        }
    )

    results: list[BulkResult]


class MergeRequest(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"source_case_id": "0190f5d2-7c1e-7a3b-9d4e-2f6a8b0c1d30"}]}
    )

    source_case_id: uuid.UUID = Field(description="This case is closed and its messages move into the target.")


class HistoryEntry(BaseModel):
    id: int
    version: int
    actor: str = Field(examples=["user:0190f5d2-7c1e-7a3b-9d4e-2f6a8b0c1d2e", "contact:…", "rule:sla-breach"])
    via: str = Field(examples=["api", "email", "command"])
    field: str = Field(examples=["status"])
    old: Any = None
    new: Any = None
    at: datetime
    page_name: ClassVar[str] = "HistoryPage"


def to_history_entry(row: CaseHistoryRow) -> HistoryEntry:
    return HistoryEntry.model_validate(row, from_attributes=True)
