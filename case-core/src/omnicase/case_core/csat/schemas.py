"""CSAT API shapes: the survey settings (what the admin sets and what is stored)."""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import cache
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from omnicase.case_core.templates import known_placeholders
from omnicase.kit import locales
from omnicase.kit.inputs import Integer, Locale, StrictInput, Trimmed

MAX_DELAY_SECONDS = 30 * 86_400
DEFAULT_DELAY_SECONDS = 86_400
MAX_REASONS = 30


Reason = Annotated[str, Trimmed(100)]


def _no_exact_duplicates(value: Any) -> Any:
    # Exactly repeated reasons break the published ``uniqueItems``; the same reason written with
    # other surrounding spaces is merged after trimming (it names the same reason).
    if isinstance(value, list) and len({repr(item) for item in value}) != len(value):
        raise ValueError("reasons must be unique")
    return value


class CsatText(StrictInput):
    """What the survey says in one locale; ``text`` may use the shared placeholders."""

    subject: Annotated[str, Trimmed(300)] = Field(
        description="The survey mail's subject (the case's reference is added)."
    )
    text: str = Field(
        min_length=1,
        max_length=5_000,
        description="The question above the links, with placeholders like {{case.number}}.",
    )
    good: Annotated[str, Trimmed(100)] = Field(description="The Good link's label.")
    bad: Annotated[str, Trimmed(100)] = Field(description="The Bad link's label.")

    _text = field_validator("text")(known_placeholders)


@cache
def built_in_texts() -> dict[str, CsatText]:
    """The built-in texts by locale, one per locale the kit's locale files give a ``[csat_email]``
    (English, Korean and Chinese ship; a key a file leaves out is English's). An admin's text for a
    locale replaces its built-in one; picked by the case's language, then its base language, then English."""
    return {
        locale: CsatText(**locales.section("csat_email", locale))
        for locale, sections in locales.catalog().items()
        if "csat_email" in sections
    }


_EXAMPLE: dict[str, Any] = {
    "enabled": True,
    "delay_seconds": 86_400,
    "reasons": ["The issue took too long to resolve", "The issue was not resolved", "The agent was unhelpful"],
    "texts": {
        "de": {
            "subject": "Wie war unser Service?",
            "text": "Hallo {{requester.first_name}}, Ihr Fall #{{case.number}} wurde gelöst. Wie zufrieden sind Sie?",
            "good": "Gut",
            "bad": "Schlecht",
        }
    },
}


class CsatSettingsInput(StrictInput):
    """The survey settings; every field is replaced (PUT)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    enabled: bool = Field(description="Surveys are sent for solved cases.")
    delay_seconds: Integer = Field(
        default=DEFAULT_DELAY_SECONDS,
        ge=0,
        le=MAX_DELAY_SECONDS,
        description="How long after the case is solved the survey goes out (0: at once; at most 30 days).",
    )
    reasons: Annotated[list[Reason], BeforeValidator(_no_exact_duplicates)] = Field(
        default_factory=list,
        max_length=MAX_REASONS,
        json_schema_extra={"uniqueItems": True},
        description="What a customer rating Bad may pick as the reason, in this order.",
    )
    texts: dict[Locale, CsatText] = Field(
        default_factory=dict,
        max_length=50,
        json_schema_extra={"additionalProperties": False, "maxProperties": 50},
        description="The survey's texts per locale (lower case: en, ko, pt-br), replacing the built-in ones.",
    )

    @field_validator("reasons")
    @classmethod
    def _merge_trimmed(cls, reasons: list[str]) -> list[str]:
        return list(dict.fromkeys(reasons))


class CsatSettings(CsatSettingsInput):
    built_in: bool = Field(description="True: no admin has saved settings; these are the defaults (surveys off).")
    built_in_locales: list[str] = Field(description="Locales with a built-in text, used where ``texts`` has none.")
    updated_by: str | None = None
    updated_at: datetime | None = None


class CsatOptOut(BaseModel):
    """A requester who gets no satisfaction surveys."""

    contact_id: uuid.UUID
    opted_out_by: str
    opted_out_at: datetime
