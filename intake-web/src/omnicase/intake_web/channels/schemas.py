"""Pydantic shapes of the channels admin API and of the generic integrator webhook."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from omnicase.intake_web.defaults import BrandSlug, RouteDefaults
from omnicase.intake_web.forms.schemas import (
    DEFAULT_MAX_ATTACHMENT_BYTES,
    DEFAULT_MAX_ATTACHMENTS,
    Locale,
    MaxAttachmentBytes,
    MaxAttachments,
    Origin,
    SpamSettings,
)
from omnicase.kit.business_time import calendar_of
from omnicase.kit.events import AttachmentRef, CaseDefaults, Channel, Party
from omnicase.kit.inputs import NOT_SPACE, Integer, StrictInput, TimeZoneName

Secret = Annotated[str, Field(min_length=1, max_length=500, description="Write-only; never returned.")]


class ChannelKind(StrEnum):
    SMS = "sms"
    WHATSAPP = "whatsapp"
    MESSENGER = "messenger"
    GENERIC = "generic"
    WIDGET = "widget"


# The suite-wide channel each kind's messages carry.
SUITE_CHANNEL: dict[ChannelKind, Channel] = {
    ChannelKind.SMS: Channel.SMS,
    ChannelKind.WHATSAPP: Channel.MESSAGING,
    ChannelKind.MESSENGER: Channel.MESSAGING,
    ChannelKind.GENERIC: Channel.API,
    # The chat widget is a messaging conversation like WhatsApp's: same capacity cost, same SLAs.
    ChannelKind.WIDGET: Channel.MESSAGING,
}

# Config keys that hold secrets: stored, used, never shown again.
SECRET_KEYS = frozenset(
    {"auth_token", "app_secret", "verify_token", "access_token", "page_access_token", "secrets", "identity_secrets"}
)


def _kind_required(schema: dict[str, Any]) -> None:
    # A config is told apart by its kind, so a request must send it (the discriminated union
    # refuses one without it), even though a config built in code takes its kind by default.
    schema["required"] = ["kind", *[name for name in schema.get("required", []) if name != "kind"]]


class SmsConfig(StrictInput):
    """An SMS provider in the common shape (Twilio's): form-encoded webhooks signed with HMAC-SHA1."""

    model_config = ConfigDict(json_schema_extra=_kind_required)

    kind: Literal[ChannelKind.SMS] = ChannelKind.SMS
    account_sid: str = Field(min_length=1, max_length=100, examples=["AC0123456789abcdef"])
    auth_token: Secret
    from_number: str = Field(pattern=r"^\+[1-9][0-9]{6,14}$", examples=["+15005550006"])
    api_base_url: AnyHttpUrl = Field(default=AnyHttpUrl("https://api.twilio.com"))
    webhook_url: AnyHttpUrl | None = Field(
        default=None,
        description="The exact URL set at the provider (signatures cover it); this service's public URL if unset.",
    )
    concatenation: Literal["provider", "none"] = Field(
        default="provider",
        description=(
            "`provider`: the provider splits a long body into concatenated segments itself (Twilio), so a reply "
            "goes out in one API call; `none`: it sends each call as one SMS, so a long reply is split here into "
            "separate messages sent in order."
        ),
    )
    max_body_chars: Integer = Field(
        default=1600,
        ge=1,
        le=100_000,
        description="Longest body the provider accepts in one API call (Twilio: 1600); a longer reply is refused.",
    )
    max_segments: Integer = Field(
        default=24,
        ge=1,
        le=255,
        description="Most SMS one reply may cost (segments, or messages when split here); a longer reply is refused.",
    )


class MetaConfig(StrictInput):
    """WhatsApp Cloud API or Facebook Messenger: JSON webhooks signed with X-Hub-Signature-256."""

    app_secret: Secret
    verify_token: Secret = Field(description="Echoed by the provider when it verifies the webhook URL.")
    access_token: Secret
    api_base_url: AnyHttpUrl = Field(default=AnyHttpUrl("https://graph.facebook.com/v21.0"))


class WhatsAppConfig(MetaConfig):
    model_config = ConfigDict(json_schema_extra=_kind_required)
    kind: Literal[ChannelKind.WHATSAPP] = ChannelKind.WHATSAPP
    phone_number_id: str = Field(min_length=1, max_length=100)


class MessengerConfig(MetaConfig):
    model_config = ConfigDict(json_schema_extra=_kind_required)
    kind: Literal[ChannelKind.MESSENGER] = ChannelKind.MESSENGER
    page_id: str = Field(min_length=1, max_length=100)


_B64 = "[A-Za-z0-9+/]"
# `whsec_` (optional) and the base64 of a 24 to 64 byte key: 8 to 21 groups of four, and one
# or two bytes more in a padded group: the schema's pattern, which the check below agrees with.
STANDARD_WEBHOOKS_SECRET_PATTERN = (
    rf"^(?:whsec_)?(?:(?:{_B64}{{4}}){{8,20}}(?:{_B64}{{2}}==|{_B64}{{3}}=)?|(?:{_B64}{{4}}){{21}}(?:{_B64}{{2}}==)?)$"
)


def _standard_webhooks_secret(value: str) -> str:
    raw = value.removeprefix("whsec_")
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError("must be whsec_ followed by base64") from error
    if not 24 <= len(key) <= 64:
        raise ValueError("the key must be 24 to 64 bytes")
    return value


class GenericConfig(StrictInput):
    """An integrator's JSON webhook signed as in the Standard Webhooks spec."""

    model_config = ConfigDict(json_schema_extra=_kind_required)

    kind: Literal[ChannelKind.GENERIC] = ChannelKind.GENERIC
    secrets: list[Annotated[str, Field(json_schema_extra={"pattern": STANDARD_WEBHOOKS_SECRET_PATTERN})]] = Field(
        min_length=1,
        max_length=2,
        description="`whsec_<base64>`; two during a rotation (either is accepted, the first signs outbound calls).",
        examples=[["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]],
    )
    outbound_url: AnyHttpUrl | None = Field(default=None, description="Where replies are POSTed (signed the same way).")

    @field_validator("secrets")
    @classmethod
    def _secrets(cls, values: list[str]) -> list[str]:
        return [_standard_webhooks_secret(value) for value in values]


class PreChat(StrictInput):
    """What the widget asks before the first message (an identified visitor is not asked)."""

    name: StrictBool = Field(default=False, description="Ask the visitor's name (required when asked).")
    email: StrictBool = Field(default=False, description="Ask the visitor's email address (required when asked).")
    topics: list[Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[a-z0-9][a-z0-9_-]*$")]] = Field(
        default_factory=list,
        max_length=20,
        description="Topics the visitor picks one of (none: not asked); the case gets it as a tag (`topic-<topic>`), "
        "so routing rules can send it to the right queue.",
    )


class OpeningInterval(StrictInput):
    """Open from ``start`` on ``day``; an ``end`` at or before ``start`` runs past midnight into the next day (as
    sla-engine's business hours read an interval)."""

    day: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    # [0-9], not \d, which takes other scripts' digits in Python's reading.
    start: str = Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", examples=["09:00"])
    end: str = Field(
        pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$",
        examples=["17:00"],
        description="Exclusive; `24:00` for midnight.",
    )


class WidgetHours(StrictInput):
    """When the desk answers the chat live. Outside them the widget says so and offers to leave a message (the
    visitor's email asked): the conversation still becomes a case, tagged `after-hours`, answered later."""

    time_zone: TimeZoneName = Field(description="IANA time zone name.")
    intervals: list[OpeningInterval] = Field(min_length=1, max_length=100)

    def open_at(self, instant: datetime) -> bool:
        calendar = calendar_of(self.time_zone, ((i.day, i.start, i.end) for i in self.intervals), ())
        return calendar.is_working(instant)


class WidgetConfig(StrictInput):
    """The chat widget a brand pastes into its pages: its look, its texts, who may embed it."""

    model_config = ConfigDict(json_schema_extra=_kind_required)

    kind: Literal[ChannelKind.WIDGET] = ChannelKind.WIDGET
    brand: BrandSlug = Field(
        description="The slug of a brand of `/api/v1/brands`: set on every case the widget opens, and the brand "
        "the widget speaks for.",
        examples=["acme"],
    )
    allowed_origins: list[Origin] = Field(
        default_factory=list,
        max_length=100,
        description="Sites allowed to embed the widget (CORS and the Origin check); empty allows any.",
    )
    default_locale: Locale = Field(
        default="en", description="Texts used when the visitor's language is not one the widget speaks."
    )
    title: dict[Locale, Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=dict, description="The panel's heading per locale (the built-in one otherwise)."
    )
    greeting: dict[Locale, Annotated[str, Field(min_length=1, max_length=500)]] = Field(
        default_factory=dict, description="The first line the visitor reads, per locale (the built-in one otherwise)."
    )
    color: str = Field(
        default="#1f4fd1",
        pattern=r"^#[0-9a-fA-F]{6}$",
        description="The brand's colour: launcher and visitor bubbles (text on it is white; pick a dark enough one).",
    )
    identity_secrets: list[Annotated[str, Field(min_length=32, max_length=500)]] = Field(
        default_factory=list,
        max_length=2,
        description="Write-only. The site's own HS256 secrets for identified visitors: a page may pass a JWT "
        "(`sub`, `exp`, optional `email` and `name`) signed with one, so a logged-in customer chats as "
        "themselves and sees their earlier messages; two during a rotation.",
    )
    pre_chat: PreChat | None = Field(default=None, description="A short form before the first message.")
    answers_first: StrictBool = Field(
        default=False,
        description="Show up to 3 help-center articles (knowledge's suggestions) for the visitor's first message, "
        "held back from the desk meanwhile: 'Talk to someone' hands it (and anything written since) over as the "
        "case's messages; 'This answered my question' ends the chat with no case (counted in the article's "
        "deflection). No articles found: handed over at once.",
    )
    hand_over_after_seconds: Integer = Field(
        default=180,
        ge=1,
        le=3600,
        description="Answers first: a visitor who neither chooses nor writes again this long after their last "
        "message is handed over to the desk anyway.",
    )
    max_message_chars: Integer = Field(default=4000, ge=1, le=20_000, description="Longest visitor message.")
    max_attachment_bytes: MaxAttachmentBytes = Field(
        default=DEFAULT_MAX_ATTACHMENT_BYTES, description="Largest file a visitor may send (as a form's)."
    )
    max_attachments: MaxAttachments = Field(
        default=DEFAULT_MAX_ATTACHMENTS, description="Most files in one visitor message (as a form's); 0: none."
    )
    business_hours: WidgetHours | None = Field(
        default=None,
        description="When the chat is answered live, the widget's own (none: always, or `business_hours_id`'s); "
        "outside them, leave a message.",
    )
    business_hours_id: uuid.UUID | None = Field(
        default=None,
        description="sla-engine's business-hours schedule (`/api/v1/business-hours/{id}`, its holidays included) "
        "the chat is answered live in, instead of `business_hours` (not both); outside it, leave a message. "
        "Checked on save: one sla-engine does not have is a 404 `unknown-reference`. While sla-engine cannot "
        "say, the chat counts as away (the visitor's email is asked; the message becomes a case as ever).",
    )
    email_unread_after_seconds: Integer | None = Field(
        default=300,
        ge=1,
        le=7 * 24 * 3600,
        description="An agent's reply the visitor has neither had on an open widget nor read this long after it "
        "was sent also goes by email, threaded, when the conversation has an address (pre-chat form, away); "
        "null: never.",
    )
    spam: SpamSettings | None = Field(
        default=None,
        description="The spam rules forms use, for a conversation's start (none: off): `honeypot_field` (the "
        "widget's hidden field: filled in, the conversation is held as spam, answered as if accepted), "
        "`min_fill_seconds` (a conversation begun sooner after the script loaded is refused), `captcha` "
        "(the visitor solves it before their first message; the secret is write-only). Not asked of "
        "visitors the site identified.",
    )
    per_visitor_per_minute: Integer = Field(
        default=20, ge=1, le=10_000, description="Messages one conversation may send a minute."
    )
    per_ip_per_minute: Integer = Field(
        default=60, ge=1, le=100_000, description="Messages one address may send a minute."
    )

    @model_validator(mode="after")
    def _one_schedule(self) -> Self:
        if self.business_hours is not None and self.business_hours_id is not None:
            both = PydanticCustomError(
                "one_schedule", "give the widget's own business_hours or sla-engine's business_hours_id, not both"
            )
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [InitErrorDetails(type=both, loc=("business_hours_id",), input=self.business_hours_id)],
            )
        return self

    @property
    def has_hours(self) -> bool:
        """Whether the chat is ever away (its own hours or sla-engine's schedule)."""
        return self.business_hours is not None or self.business_hours_id is not None


BlockedSender = Annotated[
    str, Field(min_length=1, max_length=320, pattern=rf"^{NOT_SPACE}+$", examples=["+15005550199"])
]

ChannelConfig = Annotated[
    SmsConfig | WhatsAppConfig | MessengerConfig | GenericConfig | WidgetConfig, Field(discriminator="kind")
]


class ChannelIn(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Partner portal",
                    "config": {"kind": "generic", "secrets": ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]},
                    "defaults": {"tags": ["partner"]},
                }
            ]
        }
    )

    name: str = Field(min_length=1, max_length=200)
    enabled: StrictBool = True
    config: ChannelConfig
    defaults: RouteDefaults = Field(default_factory=RouteDefaults)
    blocked_senders: list[BlockedSender] = Field(
        default_factory=list,
        max_length=1000,
        description="Phone numbers, handles or email addresses whose messages are held as spam "
        "(in the suspended-messages queue) instead of opening cases; matched ignoring case.",
    )


class ChannelOut(BaseModel):
    id: uuid.UUID
    name: str
    kind: ChannelKind
    enabled: bool
    settings: dict[str, Any] = Field(description="The configuration without its secrets.")
    defaults: CaseDefaults
    blocked_senders: list[str]
    webhook_url: str = Field(description="Give this URL to the provider or integrator.")
    version: int
    created_at: datetime
    updated_at: datetime
    page_name: ClassVar[str] = "ChannelList"


class GenericMessageIn(StrictInput):
    """What an integrator posts: one customer message of one conversation."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "conversation_id": "chat-8812",
                    "message_id": "m-1",
                    "sender": {"name": "Jane Doe", "email": "jane@example.com"},
                    "text": "My parcel never arrived.",
                }
            ]
        }
    )

    conversation_id: str = Field(min_length=1, max_length=200, pattern=rf"^{NOT_SPACE}+$")
    message_id: str | None = Field(default=None, max_length=200)
    sender: Party
    subject: str | None = Field(default=None, max_length=500)
    text: str = Field(min_length=1, max_length=64_000)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("sender")
    @classmethod
    def _identified(cls, sender: Party) -> Party:
        if not (sender.email or sender.phone or sender.handle):
            raise ValueError("give the sender's email, phone or handle")
        return sender


class WebhookAccepted(BaseModel):
    status: Literal["accepted", "duplicate", "ignored"]
    message_ids: list[uuid.UUID] = Field(default_factory=list, description="Intake ids of the messages stored.")


class ChannelMessage(BaseModel):
    id: uuid.UUID = Field(description="Intake id; case-core's message carries it as its source.")
    status: str = Field(description="`pending` until case-core confirms it, then `acknowledged`.")
    thread_key: str
    sender: Party
    text: str
    attachments: list[AttachmentRef]
    case_id: uuid.UUID | None
    received_at: datetime
    acknowledged_at: datetime | None
    published_count: int = Field(
        description="How often it was sent to case-core: above 1, it was republished while unconfirmed."
    )
    page_name: ClassVar[str] = "ChannelMessageList"


class Delivery(BaseModel):
    outbound_id: uuid.UUID
    case_id: uuid.UUID
    status: Literal["pending", "sent", "failed"]
    attempts: int
    next_attempt_at: datetime | None = Field(description="When a pending delivery is tried next.")
    last_error: str | None
    provider_message_id: str | None
    sms_encoding: Literal["GSM-7", "UCS-2"] | None = Field(
        default=None, description="SMS replies: the text's encoding (UCS-2 as soon as one character is not GSM-7)."
    )
    sms_segments: int | None = Field(
        default=None, description="SMS replies: how many SMS the reply costs (concatenated segments or messages)."
    )
    created_at: datetime
    finished_at: datetime | None
    page_name: ClassVar[str] = "DeliveryList"
