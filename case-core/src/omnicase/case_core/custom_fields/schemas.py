"""Custom field definitions of the API."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from omnicase.kit.inputs import PatchInput, StrictInput

FieldType = Literal["text", "number", "decimal", "date", "dropdown", "checkbox", "regex"]


def _check_pattern(pattern: str | None) -> str | None:
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as error:
            raise ValueError(f"pattern is not a valid regular expression: {error}") from None
    return pattern


class CustomFieldCreate(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"key": "order_number", "label": "Order number", "type": "regex", "pattern": "A-[0-9]{4}"},
                {"key": "product", "label": "Product", "type": "dropdown", "options": ["printer", "scanner"]},
            ],
            # What _type_needs checks, said in the schema: options for a dropdown only, a pattern
            # for a regex field only.
            "allOf": [
                {
                    "if": {"properties": {"type": {"const": "dropdown"}}},
                    "then": {"required": ["options"], "properties": {"options": {"minItems": 1}}},
                    "else": {"properties": {"options": {"maxItems": 0}}},
                },
                {
                    "if": {"properties": {"type": {"const": "regex"}}},
                    "then": {"required": ["pattern"], "properties": {"pattern": {"type": "string", "minLength": 1}}},
                    "else": {"properties": {"pattern": {"type": "null"}}},
                },
            ],
        }
    )

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="Name used in a case's `custom_fields`.")
    label: str = Field(min_length=1, max_length=200)
    type: FieldType
    options: list[str] = Field(
        default_factory=list,
        max_length=500,
        json_schema_extra={"uniqueItems": True},
        description="Choices of a dropdown.",
    )
    pattern: str | None = Field(
        default=None,
        max_length=500,
        json_schema_extra={"format": "regex"},
        description="Regex a `regex` value must match fully.",
    )
    required_on_solve: StrictBool = False
    active: StrictBool = True

    _pattern = field_validator("pattern")(_check_pattern)

    @model_validator(mode="after")
    def _type_needs(self) -> CustomFieldCreate:
        if self.type == "dropdown" and not self.options:
            raise ValueError("a dropdown needs options")
        if self.type != "dropdown" and self.options:
            raise ValueError("only a dropdown has options")
        if self.type == "regex" and not self.pattern:
            raise ValueError("a regex field needs a pattern")
        if self.type != "regex" and self.pattern:
            raise ValueError("only a regex field has a pattern")
        if len(set(self.options)) != len(self.options):
            raise ValueError("options must be unique")
        return self


class CustomFieldUpdate(PatchInput):
    """The key and type are fixed once created (values already stored depend on them)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"required_on_solve": True}]})

    nullable = frozenset({"pattern"})

    label: str | None = Field(default=None, min_length=1, max_length=200)
    # Whether the field takes options or a pattern is its stored type's to say (a 409 if not);
    # what the values themselves must be, the schema says.
    options: list[str] | None = Field(
        default=None, min_length=1, max_length=500, json_schema_extra={"uniqueItems": True}
    )
    pattern: str | None = Field(default=None, min_length=1, max_length=500, json_schema_extra={"format": "regex"})
    required_on_solve: StrictBool | None = None
    active: StrictBool | None = None

    _pattern = field_validator("pattern")(_check_pattern)


class CustomField(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0190f5d2-7c1e-7a3b-9d4e-2f6a8b0c1d50",
                    "key": "order_number",
                    "label": "Order number",
                    "type": "regex",
                    "options": [],
                    "pattern": "A-[0-9]{4}",
                    "required_on_solve": True,
                    "active": True,
                    "created_at": "2026-01-05T09:00:00Z",
                    "updated_at": "2026-01-05T09:00:00Z",
                }
            ]
        }
    )

    id: uuid.UUID
    key: str
    label: str
    type: FieldType
    options: list[str]
    pattern: str | None
    required_on_solve: bool
    active: bool
    created_at: datetime
    updated_at: datetime
    page_name: ClassVar[str] = "CustomFieldList"
