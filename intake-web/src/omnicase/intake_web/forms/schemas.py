"""Pydantic shapes of the forms admin API and the public submission answers."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, JsonValue, StrictBool, StringConstraints
from pydantic.config import JsonDict

from omnicase.intake_web.defaults import RouteDefaults
from omnicase.kit.events import AttachmentRef, CaseDefaults
from omnicase.kit.inputs import SPACE_OR_NUL, Integer, StrictInput

Locale = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")]
FieldKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
# A host without spaces in any engine's sense (JavaScript's \s leaves out U+0085, which pydantic's refuses).
Origin = Annotated[str, StringConstraints(pattern=rf"^https?://[^/{SPACE_OR_NUL}]+$", max_length=300)]


class FieldType(StrEnum):
    TEXT = "text"
    TEXTAREA = "textarea"
    EMAIL = "email"
    TEL = "tel"
    URL = "url"
    NUMBER = "number"
    SELECT = "select"
    CHECKBOX = "checkbox"
    FILE = "file"


# Standard case fields a form may show, and the input type each always has.
STANDARD_FIELDS: dict[str, FieldType] = {
    "name": FieldType.TEXT,
    "email": FieldType.EMAIL,
    "phone": FieldType.TEL,
    "subject": FieldType.TEXT,
    "description": FieldType.TEXTAREA,
    "attachments": FieldType.FILE,
}

# Names the form itself uses on the wire; a field may not take them.
RESERVED_NAMES = frozenset({"_ts", "_sid", "_locale"})


class SelectOption(StrictInput):
    value: str = Field(min_length=1, max_length=200)
    labels: dict[Locale, str] = Field(default_factory=dict, description="Option text per locale.")


def _field_rules(schema: dict[str, Any]) -> None:
    """What definition_errors holds one field to, said in its schema: a standard field is one of
    STANDARD_FIELDS with its fixed type; a custom one takes no file; options for a select only."""
    fixed_types: list[JsonValue] = [
        {"if": {"properties": {"key": {"const": key}}}, "then": {"properties": {"type": {"enum": [kind.value, None]}}}}
        for key, kind in STANDARD_FIELDS.items()
    ]
    select: JsonDict = {"required": ["type"], "properties": {"type": {"const": FieldType.SELECT.value}}}
    schema["if"] = {"required": ["kind"], "properties": {"kind": {"const": "custom"}}}
    schema["then"] = {
        "properties": {"type": {"not": {"const": FieldType.FILE.value}}},
        "if": select,
        "then": {"required": ["options"], "properties": {"options": {"minItems": 1}}},
        "else": {"properties": {"options": {"maxItems": 0}}},
    }
    schema["else"] = {
        "properties": {"key": {"enum": [*STANDARD_FIELDS]}, "options": {"maxItems": 0}},
        "allOf": fixed_types,
    }


class FormField(StrictInput):
    model_config = ConfigDict(json_schema_extra=_field_rules)

    key: FieldKey = Field(description="Standard field name, or the custom field's key.", examples=["order_number"])
    kind: Literal["standard", "custom"] = "standard"
    type: FieldType | None = Field(default=None, description="Input type; fixed for standard fields.")
    required: StrictBool = False
    labels: dict[Locale, Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        description="Label per locale; the form's default locale is required.", examples=[{"en": "Order number"}]
    )
    help: dict[Locale, Annotated[str, StringConstraints(max_length=500)]] = Field(default_factory=dict)
    options: list[SelectOption] = Field(default_factory=list, description="Choices of a select field.")
    max_length: Integer | None = Field(default=None, ge=1, le=100_000)


class CaptchaProvider(StrEnum):
    RECAPTCHA = "recaptcha"
    HCAPTCHA = "hcaptcha"
    TURNSTILE = "turnstile"


SITEVERIFY_URLS: dict[CaptchaProvider, str] = {
    CaptchaProvider.RECAPTCHA: "https://www.google.com/recaptcha/api/siteverify",
    CaptchaProvider.HCAPTCHA: "https://api.hcaptcha.com/siteverify",
    CaptchaProvider.TURNSTILE: "https://challenges.cloudflare.com/turnstile/v0/siteverify",
}

# The form field each provider's widget fills with its token.
CAPTCHA_RESPONSE_FIELDS: dict[CaptchaProvider, str] = {
    CaptchaProvider.RECAPTCHA: "g-recaptcha-response",
    CaptchaProvider.HCAPTCHA: "h-captcha-response",
    CaptchaProvider.TURNSTILE: "cf-turnstile-response",
}


class CaptchaSettingsIn(StrictInput):
    provider: CaptchaProvider
    site_key: str = Field(min_length=1, max_length=200)
    secret: str = Field(min_length=1, max_length=500, description="Write-only; never returned.")
    siteverify_url: AnyHttpUrl | None = Field(default=None, description="Defaults to the provider's own endpoint.")

    @property
    def verify_url(self) -> str:
        """Where answers are checked: the one set, else the provider's own."""
        return str(self.siteverify_url) if self.siteverify_url else SITEVERIFY_URLS[self.provider]


class CaptchaSettingsOut(BaseModel):
    provider: CaptchaProvider
    site_key: str
    siteverify_url: str
    secret_set: bool = True


class SpamSettings(StrictInput):
    honeypot_field: FieldKey = Field(default="website", description="Hidden field people never fill in.")
    min_fill_seconds: Integer = Field(default=3, ge=0, le=3600, description="Faster submissions are refused.")
    captcha: CaptchaSettingsIn | None = None


class RateLimits(StrictInput):
    per_ip_per_minute: Integer = Field(default=10, ge=1, le=100_000)
    per_form_per_minute: Integer = Field(default=300, ge=1, le=1_000_000)


# The locales whose customer-facing texts ship with the product; English is the default.
SHIPPED_LOCALES = ("en", "ko", "zh")


def _labels_in(locale: str) -> JsonValue:
    """With ``locale`` the form's default (for English, also when none is named), each field has a label in it."""
    chosen: JsonDict = {"required": ["default_locale"], "properties": {"default_locale": {"const": locale}}}
    labelled: JsonDict = {"properties": {"fields": {"items": {"properties": {"labels": {"required": [locale]}}}}}}
    return {
        "if": {"anyOf": [chosen, {"not": {"required": ["default_locale"]}}]} if locale == "en" else chosen,
        "then": labelled,
    }


# A form's files, and the chat widget's (the same limits: channels.schemas.WidgetConfig).
MaxAttachmentBytes = Annotated[Integer, Field(ge=1, le=25 * 1024 * 1024)]
MaxAttachments = Annotated[Integer, Field(ge=0, le=20)]
DEFAULT_MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_ATTACHMENTS = 5


class FormIn(StrictInput):
    """A form definition as an admin writes it (create and full replace)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Support request",
                    "default_locale": "en",
                    "fields": [
                        {"key": "name", "required": True, "labels": {"en": "Your name", "fr": "Votre nom"}},
                        {"key": "email", "required": True, "labels": {"en": "Email"}},
                        {"key": "subject", "required": True, "labels": {"en": "Subject"}},
                        {"key": "description", "required": True, "labels": {"en": "How can we help?"}},
                        {"key": "attachments", "labels": {"en": "Attachments"}},
                    ],
                    "defaults": {"priority": "normal", "tags": ["web"]},
                    "thank_you_url": "https://example.com/thanks",
                    "allowed_origins": ["https://example.com"],
                }
            ],
            # Every field has a label in the form's default locale (definition_errors): said here for
            # English (the default) and the locales the product ships; for another default locale
            # the schema cannot name the key another field's value chooses, and the check answers.
            "allOf": [_labels_in(locale) for locale in SHIPPED_LOCALES],
        }
    )

    name: str = Field(min_length=1, max_length=200)
    enabled: StrictBool = True
    default_locale: Locale = "en"
    title: dict[Locale, str] = Field(default_factory=dict, description="Heading shown above the form per locale.")
    fields: list[FormField] = Field(min_length=1, max_length=100)
    defaults: RouteDefaults = Field(default_factory=RouteDefaults)
    thank_you_url: AnyHttpUrl
    spam: SpamSettings = Field(default_factory=SpamSettings)
    daily_cap: Integer = Field(default=5000, ge=1, le=10_000_000, description="Submissions accepted per UTC day.")
    rate_limits: RateLimits = Field(default_factory=RateLimits)
    allowed_origins: list[Origin] = Field(
        default_factory=list, description="Sites allowed to post the form (CORS); empty allows any."
    )
    max_attachment_bytes: MaxAttachmentBytes = Field(default=DEFAULT_MAX_ATTACHMENT_BYTES)
    max_attachments: MaxAttachments = Field(default=DEFAULT_MAX_ATTACHMENTS)
    auto_response: StrictBool = Field(
        default=True,
        description="Acknowledge by email when the form has an email field (case-core sends it, from its "
        "shared auto-response template unless the form has texts of its own).",
    )
    auto_response_subject: dict[Locale, Annotated[str, StringConstraints(min_length=1, max_length=300)]] = Field(
        default_factory=dict,
        description="Subject per locale; placeholders {{name}}, {{email}}, {{subject}}, {{case_number}}.",
        examples=[{"en": "[#{{case_number}}] Thanks, {{name}}"}],
    )
    auto_response_text: dict[Locale, Annotated[str, StringConstraints(min_length=1, max_length=10_000)]] = Field(
        default_factory=dict,
        description="Body per locale, same placeholders; unset: case-core's shared auto-response template.",
    )
    suggest_articles: StrictBool = Field(
        default=False,
        description=(
            "With `auto_response`: the acknowledgement lists up to 3 published help-center articles that may answer "
            "the submitter's question; 'Yes, this answered my question' there solves the case."
        ),
    )


class FormPatch(StrictInput):
    """Change a few settings without resending the whole definition (secrets included); null leaves one as it is."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"enabled": False}]})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    enabled: StrictBool | None = None
    thank_you_url: AnyHttpUrl | None = None
    daily_cap: Integer | None = Field(default=None, ge=1, le=10_000_000)
    rate_limits: RateLimits | None = None
    allowed_origins: list[Origin] | None = None
    auto_response: StrictBool | None = None
    # The texts' own rules, as a full definition holds them (an empty subject was a 500 after the merge).
    auto_response_subject: dict[Locale, Annotated[str, StringConstraints(min_length=1, max_length=300)]] | None = None
    auto_response_text: dict[Locale, Annotated[str, StringConstraints(min_length=1, max_length=10_000)]] | None = None
    suggest_articles: StrictBool | None = None


class SpamSettingsOut(BaseModel):
    honeypot_field: str
    min_fill_seconds: int
    captcha: CaptchaSettingsOut | None = None


class Form(BaseModel):
    id: uuid.UUID
    name: str
    enabled: bool
    default_locale: str
    title: dict[str, str]
    fields: list[FormField]
    defaults: CaseDefaults
    thank_you_url: str
    spam: SpamSettingsOut
    daily_cap: int
    rate_limits: RateLimits
    allowed_origins: list[str]
    max_attachment_bytes: int
    max_attachments: int
    auto_response: bool
    auto_response_subject: dict[str, str]
    auto_response_text: dict[str, str]
    suggest_articles: bool
    version: int
    created_at: datetime
    updated_at: datetime
    page_name: ClassVar[str] = "FormList"


class FormToken(BaseModel):
    token: str = Field(description="Signed time the form was shown; sent back as the `_ts` field.")
    submission_id: str = Field(description="A fresh `_sid` for this page view (double submits collapse on it).")


class FormDayStats(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"day": "2026-11-23", "accepted": 42, "rejected": {"honeypot": 7, "rate_ip": 2},
                 "daily_cap": 5000, "remaining": 4958}
            ]
        }
    )  # fmt: skip

    day: date = Field(description="UTC day.")
    accepted: int
    rejected: dict[str, int] = Field(description="Refused submissions by reason (never turned into cases).")
    daily_cap: int
    remaining: int = Field(description="Submissions the form still accepts that day.")


class SubmissionAccepted(BaseModel):
    submission_id: uuid.UUID = Field(description="The intake id; case-core's case carries it as its source.")
    status: Literal["received"] = "received"
    received_at: datetime


class Submission(BaseModel):
    id: uuid.UUID
    form_id: uuid.UUID
    status: str
    fields: dict[str, object] = Field(description="The cleaned values, by field key.")
    attachments: list[AttachmentRef]
    case_id: uuid.UUID | None
    received_at: datetime
    acknowledged_at: datetime | None
    published_count: int = Field(
        description="How often it was sent to case-core: above 1, it was republished while unconfirmed."
    )
    page_name: ClassVar[str] = "SubmissionList"
