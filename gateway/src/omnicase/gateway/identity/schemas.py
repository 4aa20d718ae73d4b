"""Request and response bodies of the users, auth and API-token endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool
from pydantic.config import JsonDict

from omnicase.gateway.identity.principal import SCOPES, UserRole
from omnicase.kit.inputs import EmailAddress, Integer, PatchInput, StrictInput, email_key


def _scopes(values: list[str]) -> list[str]:
    unknown = sorted(set(values) - set(SCOPES))
    if unknown:
        raise ValueError(f"unknown scopes {unknown}; known: {sorted(SCOPES)}")
    return sorted(set(values))


# The kit's one address rule, published in the schema as its pattern; kept as the suite keys addresses (lower case).
Email = Annotated[EmailAddress, Field(examples=["ada@example.com"]), AfterValidator(email_key)]
Password = Annotated[str, Field(min_length=12, max_length=256, examples=["correct horse battery"])]
# The schema lists the scopes _scopes takes (the same SCOPES).
Scope = Annotated[str, Field(json_schema_extra=lambda schema: schema.update(enum=sorted(SCOPES)))]
Scopes = Annotated[list[Scope], Field(min_length=1, examples=[["cases:read", "cases:write"]]), AfterValidator(_scopes)]


class UserLinks(StrictInput):
    agent_id: uuid.UUID | None = Field(default=None, description="Routing agent record (agents, light agents).")
    contact_id: uuid.UUID | None = Field(default=None, description="case-core contact (end users; required).")
    organization_id: uuid.UUID | None = Field(default=None, description="case-core organization (end users).")
    organization_cases: StrictBool = Field(
        default=False, description="End user may see every case of their organization, not only their own."
    )


class UserCreate(UserLinks):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": "ada@example.com",
                    "name": "Ada Lovelace",
                    "role": "agent",
                    "password": "correct horse battery",
                    "agent_id": "0190f5d2-7c1e-7a3b-9d4e-2f6a8b0c1d2e",
                }
            ],
            # What check_links holds a new user to, said in the schema.
            "allOf": [
                {
                    "if": {"properties": {"role": {"enum": ["agent", "light_agent"]}}},
                    "else": {"properties": {"agent_id": {"type": "null"}}},
                },
                {
                    "if": {"properties": {"role": {"const": "end_user"}}},
                    "then": {"required": ["contact_id"], "properties": {"contact_id": {"type": "string"}}},
                    "else": {"properties": {"contact_id": {"type": "null"}, "organization_id": {"type": "null"}}},
                },
                {
                    "if": {"properties": {"organization_cases": {"const": True}}, "required": ["organization_cases"]},
                    "then": {"required": ["organization_id"], "properties": {"organization_id": {"type": "string"}}},
                },
            ],
        },
    )

    email: Email
    name: str = Field(min_length=1, max_length=200, examples=["Ada Lovelace"])
    role: UserRole = Field(examples=["agent"])
    password: Password | None = Field(default=None, description="Omit to create a user who cannot log in yet.")
    active: StrictBool = True


_SENDS_ROLE: JsonDict = {"required": ["role"]}


class UserUpdate(PatchInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"role": "light_agent"}, {"unlock": True}],
            # What check_links holds a change to when the body names the role (or organization_cases)
            # and the link beside it; a link that only the stored user breaks is a 409.
            "allOf": [
                {
                    "if": {**_SENDS_ROLE, "properties": {"role": {"not": {"enum": ["agent", "light_agent"]}}}},
                    "then": {"properties": {"agent_id": {"type": "null"}}},
                },
                {
                    "if": {**_SENDS_ROLE, "properties": {"role": {"const": "end_user"}}},
                    "then": {"properties": {"contact_id": {"type": "string"}}},
                    "else": {
                        "if": _SENDS_ROLE,
                        "then": {"properties": {"contact_id": {"type": "null"}, "organization_id": {"type": "null"}}},
                    },
                },
                {
                    "if": {"properties": {"organization_cases": {"const": True}}, "required": ["organization_cases"]},
                    "then": {"properties": {"organization_id": {"type": "string"}}},
                },
            ],
        }
    )

    nullable = frozenset({"password", "agent_id", "contact_id", "organization_id", "unlock"})

    email: Email | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: UserRole | None = None
    password: Password | None = None
    active: StrictBool | None = None
    agent_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None
    organization_cases: StrictBool | None = None
    unlock: StrictBool = Field(default=False, description="Clear a login lockout.")


class User(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0190f5d2-7c1e-7a3b-9d4e-2f6a8b0c1d2e",
                    "email": "ada@example.com",
                    "name": "Ada Lovelace",
                    "role": "agent",
                    "active": True,
                    "agent_id": "0190f5d2-7c1e-7a3b-9d4e-2f6a8b0c1d2e",
                    "contact_id": None,
                    "organization_id": None,
                    "organization_cases": False,
                    "locked_until": None,
                    "last_login_at": "2026-01-05T09:00:00Z",
                    "created_at": "2026-01-02T08:00:00Z",
                    "updated_at": "2026-01-05T09:00:00Z",
                }
            ]
        }
    )

    id: uuid.UUID
    email: str
    name: str
    role: UserRole
    active: bool
    agent_id: uuid.UUID | None
    contact_id: uuid.UUID | None
    organization_id: uuid.UUID | None
    organization_cases: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    created_at: datetime
    updated_at: datetime
    page_name: ClassVar[str] = "UserPage"


class PasswordChange(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"current_password": "correct horse battery", "new_password": "tr0ub4dor and then some"}]
        }
    )

    current_password: str = Field(min_length=1, max_length=256)
    new_password: Password


class Me(BaseModel):
    """The caller: a user, or an integration's API token."""

    id: uuid.UUID = Field(description="User id, or API token id when kind is api_token.")
    kind: Literal["user", "api_token"]
    role: Literal["admin", "agent", "light_agent", "end_user", "integration"]
    name: str
    scopes: list[str] = Field(examples=[["cases:read", "cases:write"]])
    agent_id: uuid.UUID | None
    contact_id: uuid.UUID | None
    organization_id: uuid.UUID | None
    organization_cases: bool


class LinkError(ValueError):
    """A link that does not fit the role; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def check_links(
    role: str,
    agent_id: uuid.UUID | None,
    contact_id: uuid.UUID | None,
    organization_id: uuid.UUID | None,
    organization_cases: bool,
) -> None:
    """Agents link to routing, end users to case-core; nobody links to the other side."""
    if agent_id is not None and role not in ("agent", "light_agent"):
        raise LinkError("agent_id", "only agents and light agents link to a routing agent")
    if role == "end_user" and contact_id is None:
        raise LinkError("contact_id", "an end user must link to a case-core contact")
    if role != "end_user":
        if contact_id is not None:
            raise LinkError("contact_id", "only end users link to a contact")
        if organization_id is not None:
            raise LinkError("organization_id", "only end users link to an organization")
    if organization_cases and organization_id is None:
        raise LinkError("organization_cases", "needs an organization_id")


class TokenResponse(BaseModel):
    """RFC 6749 §5.1 access token response."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiIuLi4ifQ.c2ln",
                    "token_type": "Bearer",
                    "expires_in": 900,
                    "refresh_token": "ocr_2kq0V9c3Jm1Zx8rTqkF8lK3uY0n6QyS7eD4bWmA5pHc",
                    "scope": "cases:read cases:write",
                }
            ]
        }
    )

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(examples=[900])
    refresh_token: str
    scope: str = Field(examples=["cases:read cases:write"])


# The longest lifetime a new API token may be given: ten years.
MAX_API_TOKEN_SECONDS = 10 * 366 * 24 * 3600


class ApiTokenCreate(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "CRM sync", "scopes": ["cases:read", "cases:write"]}]}
    )

    name: str = Field(min_length=1, max_length=200, examples=["CRM sync"])
    scopes: Scopes
    # A lifetime rather than a moment: a moment could already be past when the request arrives,
    # a rule no schema can state, where every lifetime the schema allows is one the service takes.
    expires_in: Integer | None = Field(
        default=None,
        ge=60,
        le=MAX_API_TOKEN_SECONDS,
        description="Seconds from now until the token stops working (`expires_at` in the answer); "
        "omit for a token that does not expire.",
        examples=[90 * 24 * 3600],
    )


class ApiToken(BaseModel):
    id: uuid.UUID
    name: str
    token_prefix: str = Field(description="First characters of the token, to recognise it in a list.")
    scopes: list[str]
    created_by: uuid.UUID | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    page_name: ClassVar[str] = "ApiTokenPage"


class ApiTokenCreated(ApiToken):
    token: str = Field(description="The bearer token. Shown once: only its hash is stored.")
