"""Trigger API shapes: conditions (all/any), actions, the rule, and what a (dry) run did."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, time
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from omnicase.case_core.cases.schemas import CaseChanges, Tag
from omnicase.case_core.templates import TemplatedText, known_placeholders
from omnicase.kit.inputs import Integer, PatchInput, StrictInput, TimeZoneName

ConditionField = Literal[
    "update_type",
    "time",
    "status",
    "priority",
    "type",
    "channel",
    "group_id",
    "assignee_id",
    "requester_id",
    "organization_id",
    "brand",
    "brand_id",
    "language",
    "tags",
    "subject",
    "satisfaction",
]
Operator = Literal[
    "is",
    "is_not",
    "in",
    "not_in",
    "contains",
    "not_contains",
    "present",
    "blank",
    "changed",
    "not_changed",
    "changed_to",
    "changed_from",
    "within",
    "outside",
]

_NEEDS_VALUE = {"is", "is_not", "in", "not_in", "contains", "not_contains", "changed_to", "changed_from"}
_NEEDS_LIST = {"in", "not_in"}
_TEXT_OPERATORS = {"contains", "not_contains"}


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


_CLOCK_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"


def _wall_clock(value: object) -> object:
    """A time of day as the clock on the wall shows it (``HH:MM``, seconds optional), never with an offset."""
    if isinstance(value, str) and not re.fullmatch(_CLOCK_PATTERN, value):
        raise ValueError("a time of day is HH:MM (24-hour clock, local to the timezone, no offset)")
    return value


WallClock = Annotated[
    time,
    BeforeValidator(_wall_clock),
    WithJsonSchema({"type": "string", "pattern": _CLOCK_PATTERN, "examples": ["09:00"]}),
]


class Hours(StrictInput):
    """Opening hours for the ``time`` condition: these days, from ``start`` to ``end`` local time.

    An ``end`` at or before ``start`` runs past midnight into the next day (``22:00`` to
    ``06:00`` is a night; equal times are the 24 hours from ``start``), so every pair of times
    means something and the schema needs no rule relating the two.
    """

    timezone: TimeZoneName
    days: list[Weekday] = Field(min_length=1, max_length=7)
    start: WallClock
    end: WallClock = Field(examples=["17:00"])

    def contain(self, moment: datetime) -> bool:
        local = moment.astimezone(ZoneInfo(self.timezone))
        today, clock = WEEKDAYS[local.weekday()], local.time().replace(tzinfo=None)
        if self.start < self.end:
            return today in self.days and self.start <= clock < self.end
        yesterday = WEEKDAYS[(local.weekday() - 1) % 7]
        return (today in self.days and clock >= self.start) or (yesterday in self.days and clock < self.end)


class Condition(StrictInput):
    """One test of the case: its value now, or how this update changed it.

    ``update_type`` is ``created`` or ``updated``; ``contains`` is "has the tag" for
    ``tags`` and a case-insensitive substring for ``subject``; ``time`` is ``within`` or
    ``outside`` the :class:`Hours` given as value (the moment of the update).
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"field": "priority", "operator": "changed_to", "value": "urgent"}],
            # What _value_fits checks, said in the schema.
            "allOf": [
                {
                    "if": {"properties": {"field": {"const": "time"}}},
                    "then": {
                        "required": ["value"],
                        "properties": {"operator": {"enum": ["within", "outside"]}, "value": Hours.model_json_schema()},
                    },
                    "else": {"properties": {"operator": {"not": {"enum": ["within", "outside"]}}}},
                },
                {
                    "if": {"properties": {"operator": {"enum": [*sorted(_NEEDS_VALUE)]}}},
                    "then": {"required": ["value"], "properties": {"value": {"not": {"type": "null"}}}},
                },
                {
                    "if": {"properties": {"operator": {"enum": [*sorted(_NEEDS_LIST)]}}},
                    "then": {"properties": {"value": {"type": "array"}}},
                },
                {
                    "if": {"properties": {"operator": {"enum": [*sorted(_TEXT_OPERATORS)]}}},
                    "then": {"properties": {"field": {"enum": ["tags", "subject"]}}},
                },
                {
                    "if": {"properties": {"field": {"const": "update_type"}}},
                    "then": {
                        "required": ["value"],
                        "properties": {
                            "operator": {"enum": ["is", "is_not"]},
                            "value": {"enum": ["created", "updated"]},
                        },
                    },
                },
            ],
        }
    )

    field: ConditionField
    operator: Operator
    value: Any = None

    @model_validator(mode="after")
    def _value_fits(self) -> Condition:
        if (self.field == "time") != (self.operator in ("within", "outside")):
            raise ValueError("time takes within or outside (and only time does)")
        if self.field == "time":
            self.value = Hours.model_validate(self.value).model_dump(mode="json")
            return self
        if self.operator in _NEEDS_VALUE and self.value is None:
            raise ValueError(f"operator {self.operator} needs a value")
        if self.operator in _NEEDS_LIST and not isinstance(self.value, list):
            raise ValueError(f"operator {self.operator} needs a list of values")
        if self.operator in _TEXT_OPERATORS and self.field not in ("tags", "subject"):
            raise ValueError("contains/not_contains apply to tags and subject")
        if self.field == "update_type" and self.operator not in ("is", "is_not"):
            raise ValueError("update_type takes is or is_not")
        if self.field == "update_type" and self.value not in ("created", "updated"):
            raise ValueError("update_type is created or updated")
        return self


class Conditions(StrictInput):
    """Every condition of ``all`` and, if ``any`` is not empty, at least one of ``any``."""

    # What _not_empty checks, said in the schema: one of the two lists has a condition.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["all"], "properties": {"all": {"minItems": 1}}},
                {"required": ["any"], "properties": {"any": {"minItems": 1}}},
            ]
        }
    )

    all: list[Condition] = Field(default_factory=list, max_length=50)
    any: list[Condition] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _not_empty(self) -> Conditions:
        if not self.all and not self.any:
            raise ValueError("a trigger needs at least one condition (a rule for every change is rarely meant)")
        return self


SettableField = Literal["status", "priority", "type", "group_id", "assignee_id", "brand"]


def _settable_values(schema: dict[str, Any]) -> None:
    """What check_set_values holds a value to, said in the schema: per field, the value a PATCH of the case takes."""
    changes = CaseChanges.model_json_schema()
    definitions = changes.get("$defs", {})
    branches = []
    for name in get_args(SettableField):
        value = {key: part for key, part in changes["properties"][name].items() if key not in ("default", "title")}
        reference = value.pop("$ref", None)
        if reference is not None:
            value = {**definitions[reference.rsplit("/", 1)[1]], **value}
        branches.append({"if": {"properties": {"field": {"const": name}}}, "then": {"properties": {"value": value}}})
    schema["allOf"] = branches


class SetField(StrictInput):
    model_config = ConfigDict(json_schema_extra=_settable_values)

    type: Literal["set"]
    field: SettableField
    value: Any


class AddTags(StrictInput):
    type: Literal["add_tags"]
    tags: list[Tag] = Field(min_length=1, max_length=50)


class RemoveTags(StrictInput):
    type: Literal["remove_tags"]
    tags: list[Tag] = Field(min_length=1, max_length=50)


class AddNote(StrictInput):
    type: Literal["add_note"]
    text: str = Field(min_length=1, max_length=10_000)


class EmailRequester(TemplatedText):
    """A public reply to the requester (by the channel that owns the conversation; email for web cases)."""

    type: Literal["email_requester"]


_NOTIFY_SUBJECT = "[#{{case.number}}] {{case.subject}}"


class StaffEmail(TemplatedText):
    """An email to staff (not a reply on the case): the text and subject take the same placeholders."""

    subject: str = Field(default=_NOTIFY_SUBJECT, min_length=1, max_length=500, examples=[_NOTIFY_SUBJECT])

    _subject = field_validator("subject")(known_placeholders)


class EmailAssignee(StaffEmail):
    """An email to the case's assignee (their address in routing); sent after the change commits."""

    type: Literal["email_assignee"]


class EmailGroup(StaffEmail):
    """An email to every member of a group (routing's members with an address); ``group_id`` omitted:
    the case's group."""

    type: Literal["email_group"]
    group_id: uuid.UUID | None = None


class NotifyWebhook(StrictInput):
    """A ``trigger.fired`` delivery (the rule and the case) to this webhook subscription, signed and retried."""

    type: Literal["notify_webhook"]
    webhook_id: uuid.UUID


Action = Annotated[
    SetField | AddTags | RemoveTags | AddNote | EmailRequester | EmailAssignee | EmailGroup | NotifyWebhook,
    Field(discriminator="type"),
]

_EXAMPLE: dict[str, Any] = {
    "name": "Urgent goes to tier 2",
    "conditions": {"all": [{"field": "priority", "operator": "changed_to", "value": "urgent"}]},
    "actions": [
        {"type": "set", "field": "group_id", "value": "0192f0c4-3c1e-7d1a-9a51-5a4b7c3d2e10"},
        {"type": "add_tags", "tags": ["escalated"]},
        {"type": "add_note", "text": "Escalated by rule."},
    ],
}


class TriggerCreate(StrictInput):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=1000)
    active: StrictBool = True
    position: Integer | None = Field(
        default=None, ge=0, le=1_000_000, description="Evaluation order; omitted, the rule goes last."
    )
    conditions: Conditions
    actions: list[Action] = Field(min_length=1, max_length=20)


class TriggerUpdate(PatchInput):
    model_config = ConfigDict(json_schema_extra={"examples": [{"active": False}]})

    nullable = frozenset({"conditions", "actions"})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=1000)
    active: StrictBool | None = None
    position: Integer | None = Field(default=None, ge=0, le=1_000_000)
    conditions: Conditions | None = None
    actions: list[Action] | None = Field(default=None, min_length=1, max_length=20)


class Trigger(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    active: bool
    position: int
    conditions: Conditions
    actions: list[Action]
    created_at: datetime
    updated_at: datetime


class TriggerList(BaseModel):
    items: list[Trigger]


class FiredTrigger(BaseModel):
    trigger_id: uuid.UUID
    name: str


class TriggerRun(BaseModel):
    """The rules that fired on one update, in order, and why the chain stopped early (if it did)."""

    fired: list[FiredTrigger]
    stopped_reason: str | None = None
    changes: dict[str, Any] = Field(default_factory=dict, description="Fields the rules changed: {old, new}.")


class DryRunRequest(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"case_id": "0192f0c4-3c1e-7d1a-9a51-5a4b7c3d2e10", "changes": {"priority": "urgent"}}]
        }
    )

    case_id: uuid.UUID
    changes: CaseChanges = Field(
        default_factory=CaseChanges,
        description="A change to imagine first (as for PATCH /cases/{id}); empty: the case as it is.",
    )
