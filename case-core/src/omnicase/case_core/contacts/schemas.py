"""Contact resources of the API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from omnicase.kit.events import Channel
from omnicase.kit.inputs import (
    EMAIL_ADDRESS_PATTERN,
    MAX_EMAIL_ADDRESS_LENGTH,
    STORABLE_TEXT_PATTERN,
    Locale,
    PatchInput,
    StrictInput,
)

# The service checks each address by the kit's rule (a 422 naming its index); the schema
# publishes that rule's pattern (it also takes surrounding spaces, which it trims).
Address = Annotated[
    str, Field(json_schema_extra={"pattern": EMAIL_ADDRESS_PATTERN, "maxLength": MAX_EMAIL_ADDRESS_LENGTH})
]

PHONE_FORMAT = "phone"
"""The published ``format`` of a phone number the service takes: one its country's numbering plan
accepts (libphonenumber), written internationally (``+`` and the country code, any spacing) or,
where the deployment sets ``CASE_CORE_DEFAULT_PHONE_REGION``, nationally. No pattern says a
numbering plan, so the document names the rule as a format (OpenAPI's formats are open-ended: a
tool that does not know one treats the value as a string) and the service checks it (a 422 naming
the field)."""
PhoneNumber = Annotated[
    str,
    Field(
        json_schema_extra={
            "format": PHONE_FORMAT,
            "pattern": STORABLE_TEXT_PATTERN,
            "description": "A number its country's numbering plan accepts, as +<country code>….",
        }
    ),
]


class Handle(StrictInput):
    channel: Channel = Field(examples=["messaging"])
    handle: str = Field(min_length=1, max_length=300, examples=["whatsapp:4915112345678"])


class ContactCreate(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "Ada Lovelace", "emails": ["ada@example.com"], "phones": ["+44 20 7946 0958"]}],
            # What create checks (code empty), said in the schema: a name or at least one identity.
            "anyOf": [
                {"required": ["name"], "properties": {"name": {"type": "string", "minLength": 1}}},
                {"required": ["emails"], "properties": {"emails": {"type": "array", "minItems": 1}}},
                {"required": ["phones"], "properties": {"phones": {"type": "array", "minItems": 1}}},
                {"required": ["handles"], "properties": {"handles": {"type": "array", "minItems": 1}}},
            ],
        }
    )

    name: str | None = Field(default=None, max_length=200)
    emails: list[Address] = Field(default_factory=list, max_length=20)
    phones: list[PhoneNumber] = Field(default_factory=list, max_length=20)
    handles: list[Handle] = Field(default_factory=list, max_length=20)
    organization_id: uuid.UUID | None = Field(
        default=None, description="Defaults to the organization owning the first email's domain."
    )
    notes: str = Field(default="", max_length=10_000)
    locale: Locale | None = Field(
        default=None, description="The language to write to the contact in; unset, its first message's (detected)."
    )


class ContactUpdate(PatchInput):
    """Given lists replace the contact's identities of that kind."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Ada King"}]})

    nullable = frozenset({"name", "organization_id", "locale"})

    name: str | None = Field(default=None, max_length=200)
    emails: list[Address] | None = Field(default=None, max_length=20)
    phones: list[PhoneNumber] | None = Field(default=None, max_length=20)
    handles: list[Handle] | None = Field(default=None, max_length=20)
    organization_id: uuid.UUID | None = None
    notes: str | None = Field(default=None, max_length=10_000)
    locale: Locale | None = None


class Contact(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0190f5d2-7c1e-7a3b-9d4e-2f6a8b0c1d2f",
                    "name": "Ada Lovelace",
                    "emails": ["ada@example.com"],
                    "phones": ["+442079460958"],
                    "handles": [],
                    "organization_id": None,
                    "notes": "",
                    "locale": "en",
                    "created_at": "2026-01-05T09:00:00Z",
                    "updated_at": "2026-01-05T09:00:00Z",
                }
            ]
        }
    )

    id: uuid.UUID
    name: str | None
    emails: list[str]
    phones: list[str] = Field(description="E.164.")
    handles: list[Handle]
    organization_id: uuid.UUID | None
    notes: str
    locale: str | None = Field(
        default=None, description="The language to write to the contact in (lower case: en, ko, zh, pt-br)."
    )
    created_at: datetime
    updated_at: datetime
    page_name: ClassVar[str] = "ContactPage"


class ContactMerge(StrictInput):
    source_contact_id: uuid.UUID = Field(
        description="Merged into the contact of the path: its identities and cases move, then it is deleted."
    )
