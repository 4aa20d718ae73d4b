"""Organization resources of the API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from omnicase.case_core.normalize import DOMAIN_PATTERN, MAX_DOMAIN_LENGTH
from omnicase.kit.inputs import PatchInput, StrictInput

# The service checks each domain (a 422 naming its index); the schema publishes the same rule.
Domain = Annotated[str, Field(json_schema_extra={"maxLength": MAX_DOMAIN_LENGTH, "pattern": DOMAIN_PATTERN})]


class OrganizationCreate(StrictInput):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Acme Corp", "domains": ["acme.example"]}]})

    name: str = Field(min_length=1, max_length=200)
    domains: list[Domain] = Field(
        default_factory=list, max_length=100, description="Contacts with these email domains join the organization."
    )
    notes: str = Field(default="", max_length=10_000)


class OrganizationUpdate(PatchInput):
    model_config = ConfigDict(json_schema_extra={"examples": [{"domains": ["acme.example", "acme.test"]}]})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    domains: list[Domain] | None = Field(default=None, max_length=100, description="Replaces every domain.")
    notes: str | None = Field(default=None, max_length=10_000)


class Organization(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0190f5d2-7c1e-7a3b-9d4e-2f6a8b0c1d31",
                    "name": "Acme Corp",
                    "domains": ["acme.example"],
                    "notes": "",
                    "created_at": "2026-01-05T09:00:00Z",
                    "updated_at": "2026-01-05T09:00:00Z",
                }
            ]
        }
    )

    id: uuid.UUID
    name: str
    domains: list[str]
    notes: str
    created_at: datetime
    updated_at: datetime
    page_name: ClassVar[str] = "OrganizationPage"


class OrganizationMerge(StrictInput):
    source_organization_id: uuid.UUID = Field(
        description=(
            "Merged into the organization of the path: its domains, contacts and cases move, then it is deleted."
        )
    )
