"""Mailbox API models."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, field_validator

from omnicase.kit.brands import SLUG_PATTERN
from omnicase.kit.events import CaseDefaults, Priority
from omnicase.kit.inputs import NOT_SPACE, EmailAddress, StrictInput, email_key

# The kit's one address rule, published in the schema as its pattern; kept as the suite keys addresses (lower case).
Address = Annotated[EmailAddress, Field(examples=["support@example.com"]), AfterValidator(email_key)]


# A default tag: 1-80 characters without whitespace (Python's, which also takes U+001C..U+001F,
# and JavaScript's, which also takes U+FEFF, named for the engines reading the schema), checked
# after trimming and published as the schema's pattern; kept in lower case.
TAG_PATTERN = rf"^{NOT_SPACE}{{1,80}}$"
Tag = Annotated[str, Field(json_schema_extra={"pattern": TAG_PATTERN})]


class MailboxDefaults(StrictInput):
    """Applied to every case the mailbox opens."""

    priority: Priority | None = None
    group_id: uuid.UUID | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=50, examples=[["billing", "email"]])
    type: str | None = Field(default=None, max_length=100, examples=["question"])

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: list[str]) -> list[str]:
        cleaned: list[str] = []
        for tag in tags:
            tag = tag.strip()
            if re.fullmatch(TAG_PATTERN, tag) is None:
                raise ValueError("tags are 1-80 characters without spaces")
            tag = tag.lower()
            if tag not in cleaned:
                cleaned.append(tag)
        return cleaned


class MailboxCreate(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "address": "support@example.com",
                    "display_name": "Example Support",
                    "brand": "example",
                    "defaults": {"priority": "normal", "tags": ["email"]},
                    "auto_response": True,
                    "suggest_articles": True,
                    "signature": "-- \nThe Example support team",
                    "logo_url": "https://example.com/logo.png",
                }
            ]
        }
    )

    address: Address = Field(description="Matched case-insensitively; stored lowercased.")
    display_name: str | None = Field(default=None, max_length=200)
    brand: str | None = Field(
        default=None,
        max_length=100,
        pattern=SLUG_PATTERN,
        description="The slug of a brand of `/api/v1/brands`: every case the mailbox opens carries it.",
        examples=["example"],
    )
    defaults: MailboxDefaults = Field(default_factory=MailboxDefaults)
    auto_response: StrictBool = Field(default=False, description="Acknowledge new cases by email.")
    suggest_articles: StrictBool = Field(
        default=False,
        description=(
            "With `auto_response`: the acknowledgement lists up to 3 published help-center articles that may "
            "answer the customer's question; 'Yes, this answered my question' there solves the case."
        ),
    )
    signature: str | None = Field(default=None, max_length=5000)
    logo_url: str | None = Field(
        default=None, max_length=2000, pattern=rf"^https?://{NOT_SPACE}+$", description="Brand logo shown in HTML mail."
    )
    webhook_secret: str | None = Field(
        default=None, min_length=16, max_length=200, description="Signs inbound-parse webhook posts (write-only)."
    )


class MailboxUpdate(StrictInput):
    """Partial update: only the fields present change."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"auto_response": False}]})

    address: Address | None = None
    display_name: str | None = Field(default=None, max_length=200)
    brand: str | None = Field(
        default=None, max_length=100, pattern=SLUG_PATTERN, description="The slug of a brand of `/api/v1/brands`."
    )
    defaults: MailboxDefaults | None = None
    auto_response: StrictBool | None = None
    suggest_articles: StrictBool | None = None
    signature: str | None = Field(default=None, max_length=5000)
    logo_url: str | None = Field(default=None, max_length=2000, pattern=rf"^https?://{NOT_SPACE}+$")
    webhook_secret: str | None = Field(default=None, min_length=16, max_length=200)


class MailboxVerification(BaseModel):
    """Whether mail sent to the address reaches Omnicase through the configured route."""

    status: Literal["unverified", "pending", "verified"]
    requested_at: datetime | None = Field(description="When the last test message was sent.")
    verified_at: datetime | None = Field(description="When a test message arrived back.")
    route: str | None = Field(description="How it arrived: smtp, webhook or imap.", examples=["smtp"])
    received_from: str | None = Field(description="Envelope sender (or From) of the arrived test message.")


class Mailbox(BaseModel):
    id: uuid.UUID
    address: str = Field(examples=["support@example.com"])
    display_name: str | None
    brand: str | None
    defaults: MailboxDefaults
    auto_response: bool
    suggest_articles: bool
    signature: str | None
    logo_url: str | None
    webhook_secret_set: bool = Field(description="Whether the mailbox has its own webhook secret.")
    verification: MailboxVerification
    created_at: datetime
    updated_at: datetime

    def case_defaults(self) -> CaseDefaults:
        return CaseDefaults(
            brand=self.brand,
            priority=self.defaults.priority,
            group_id=self.defaults.group_id,
            type=self.defaults.type,
            tags=list(self.defaults.tags),
        )

    page_name: ClassVar[str] = "MailboxPage"
