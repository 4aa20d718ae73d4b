"""Dynamic content of the API: named texts with a variant per locale, used as ``{{dc.<name>}}``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from omnicase.kit.inputs import Locale, PatchInput, StrictInput

# What ``{{dc.<name>}}`` can name (the placeholders' own rule: lower-case letters and underscores).
NAME_PATTERN = r"^[a-z][a-z_]{0,63}$"
Text = Annotated[str, Field(min_length=1, max_length=20_000)]
Variants = Annotated[
    dict[Locale, Text],
    Field(max_length=100, description="The text per locale (lower case: ko, zh, pt-br); `ko` also serves `ko-kr`."),
]


class DynamicContentCreate(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "greeting",
                    "text": "Hello",
                    "variants": {"ko": "안녕하세요", "zh": "您好", "de": "Hallo"},
                }
            ]
        }
    )

    name: str = Field(pattern=NAME_PATTERN, description="Fixed once created: texts use it as {{dc.<name>}}.")
    text: Text = Field(description="The item's default: used where no variant fits.")
    variants: Variants = Field(default_factory=dict)


class DynamicContentUpdate(PatchInput):
    """The text and the variants (given variants replace them all); the name is fixed."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"variants": {"ko": "안녕하세요"}}]})

    text: Text | None = None
    variants: Variants | None = None


class DynamicContent(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0190f5d2-7c1e-7a3b-9d4e-2f6a8b0c1d70",
                    "name": "greeting",
                    "text": "Hello",
                    "variants": {"ko": "안녕하세요", "zh": "您好"},
                    "created_at": "2026-01-05T09:00:00Z",
                    "updated_at": "2026-01-05T09:00:00Z",
                }
            ]
        }
    )

    id: uuid.UUID
    name: str
    text: str
    variants: dict[str, str]
    created_at: datetime
    updated_at: datetime
    page_name: ClassVar[str] = "DynamicContentList"
