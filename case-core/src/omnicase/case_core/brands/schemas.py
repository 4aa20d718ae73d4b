"""Brands of the API: one desk serving several brands, each with its own look, locales and hours."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, ClassVar, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, model_validator

from omnicase.case_core.csat.schemas import CsatText
from omnicase.kit.inputs import NOT_SPACE, Integer, Locale, PatchInput, StrictInput, TimeZoneName

# A brand's slug, as mailboxes and forms name it (the pattern their ``brand`` field has).
SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
Slug = Annotated[str, Field(min_length=1, max_length=100, pattern=SLUG_PATTERN)]
Colour = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$", examples=["#0b5fff"])]
LogoUrl = Annotated[str, Field(max_length=2000, pattern=rf"^https?://{NOT_SPACE}+$")]


def _unique(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("locales must be unique")
    return values


Locales = Annotated[
    list[Locale], Field(max_length=50, json_schema_extra={"uniqueItems": True}), AfterValidator(_unique)
]


class BrandColors(StrictInput):
    primary: Colour = Field(description="Buttons, links and headers of the brand's pages and emails.")
    accent: Colour | None = Field(default=None, description="A second colour (highlights); none: the primary.")


class BrandCsat(StrictInput):
    """The brand's CSAT settings, each replacing the suite's (`/api/v1/csat/settings`) where given."""

    enabled: StrictBool | None = Field(default=None, description="Survey this brand's requesters; null: as the suite.")
    delay_seconds: Integer | None = Field(default=None, ge=0, le=2_592_000)
    texts: dict[Locale, CsatText] = Field(
        default_factory=dict, max_length=50, description="The survey's texts per locale, before the suite's."
    )


def with_default(default: str, supported: list[str]) -> list[str]:
    # The default locale is always supported: listed first, whether or not the caller listed it.
    return [default, *(locale for locale in supported if locale != default)]


class BrandCreate(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Acme Korea",
                    "slug": "acme-kr",
                    "default_locale": "ko",
                    "supported_locales": ["ko", "en"],
                    "colors": {"primary": "#0b5fff"},
                    "email_signature": "Acme 고객지원팀",
                    "time_zone": "Asia/Seoul",
                }
            ]
        }
    )

    name: str = Field(min_length=1, max_length=200)
    slug: Slug = Field(description="Fixed once created: mailboxes, forms and rules name the brand by it.")
    default_locale: Locale = Field(default="en", description="The brand's language when nothing says another.")
    supported_locales: Locales = Field(
        default_factory=list,
        description="The languages the brand answers in; its default locale is always one (listed first).",
    )
    logo_url: LogoUrl | None = None
    colors: BrandColors | None = None
    email_signature: str = Field(default="", max_length=5_000, description="Below every email of the brand.")
    time_zone: TimeZoneName = "UTC"
    business_hours_id: uuid.UUID | None = Field(default=None, description="sla-engine's business-hours schedule.")
    sla_policy_id: uuid.UUID | None = Field(default=None, description="sla-engine's policy for the brand's cases.")
    csat: BrandCsat | None = None

    @model_validator(mode="after")
    def _default_supported(self) -> Self:
        self.supported_locales = with_default(self.default_locale, self.supported_locales)
        return self


class BrandUpdate(PatchInput):
    """Every field but the slug; null clears the optional ones."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"email_signature": "The Acme team"}]})

    nullable = frozenset({"logo_url", "colors", "business_hours_id", "sla_policy_id", "csat"})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    default_locale: Locale | None = None
    supported_locales: Locales | None = None
    logo_url: LogoUrl | None = None
    colors: BrandColors | None = None
    email_signature: str | None = Field(default=None, max_length=5_000)
    time_zone: TimeZoneName | None = None
    business_hours_id: uuid.UUID | None = None
    sla_policy_id: uuid.UUID | None = None
    csat: BrandCsat | None = None


class Brand(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0190f5d2-7c1e-7a3b-9d4e-2f6a8b0c1d60",
                    "name": "Acme Korea",
                    "slug": "acme-kr",
                    "default_locale": "ko",
                    "supported_locales": ["ko", "en"],
                    "logo_url": None,
                    "colors": {"primary": "#0b5fff", "accent": None},
                    "email_signature": "Acme 고객지원팀",
                    "time_zone": "Asia/Seoul",
                    "business_hours_id": None,
                    "sla_policy_id": None,
                    "csat": None,
                    "created_at": "2026-01-05T09:00:00Z",
                    "updated_at": "2026-01-05T09:00:00Z",
                }
            ]
        }
    )

    id: uuid.UUID
    name: str
    slug: str
    default_locale: str
    supported_locales: list[str]
    logo_url: str | None
    colors: BrandColors | None
    email_signature: str
    time_zone: str
    business_hours_id: uuid.UUID | None
    sla_policy_id: uuid.UUID | None
    csat: BrandCsat | None
    created_at: datetime
    updated_at: datetime
    page_name: ClassVar[str] = "BrandList"
