"""Pydantic shapes of the voice channels admin API and of the calls it lists."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import AnyHttpUrl, BaseModel, Field, StrictBool, field_validator

from omnicase.intake_web.channels.schemas import Secret
from omnicase.intake_web.defaults import BrandSlug, RouteDefaults
from omnicase.kit.events import CaseDefaults
from omnicase.kit.inputs import Integer, StrictInput

PhoneNumber = Annotated[str, Field(pattern=r"^\+[1-9][0-9]{6,14}$", examples=["+15005550006"])]

DEFAULT_GREETING = "Thank you for calling. Nobody can take your call right now: please leave a message after the tone."
DEFAULT_VOICEMAIL_PROMPT = "Sorry, nobody can take your call right now: please leave a message after the tone."
DEFAULT_AFTER_HOURS_MESSAGE = "Thank you for calling. We are closed right now: please leave a message after the tone."
DEFAULT_CALLBACK_PROMPT = "Press 1 at any time to hang up and be called back: you keep your place in the queue."
DEFAULT_CALLBACK_CONFIRMATION = "Thank you. We will call you back at this number. Goodbye."


class VoiceChannelBase(BaseModel):
    """What a voice channel's answer shows of it (its auth token never)."""

    provider: Literal["twilio"] = Field(
        default="twilio",
        description="`twilio`: Twilio or any provider speaking its voice webhooks, signatures and TwiML.",
    )
    account_sid: str = Field(min_length=1, max_length=100, examples=["AC0123456789abcdef"])
    api_base_url: AnyHttpUrl = Field(default=AnyHttpUrl("https://api.twilio.com"))
    webhook_base_url: AnyHttpUrl | None = Field(
        default=None,
        description="The base of the URLs set at the provider, if it differs from this service's public one "
        "(the signatures cover the whole URL).",
    )
    phone_numbers: list[PhoneNumber] = Field(
        min_length=1, max_length=100, description="The channel's numbers (E.164); a call to another is refused."
    )
    brand: str | None = Field(default=None, min_length=1, max_length=100, description="The brand of its cases.")
    greeting: str = Field(default=DEFAULT_GREETING, min_length=1, max_length=1000, description="Said to every caller.")
    language: str = Field(
        default="en-US", pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$", description="The language the greeting is said in."
    )
    voicemail: StrictBool = Field(
        default=True,
        description="Record a voicemail when no agent takes the call (at once without a queue); otherwise hang up.",
    )
    voicemail_max_seconds: Integer = Field(default=120, ge=1, le=3600)
    queue_seconds: Integer = Field(
        default=0,
        ge=0,
        le=3600,
        description="How long a caller holds for an agent (routing offers the call's case; the agent who takes "
        "it is dialled) before the voicemail, or the end of the call without one. 0: no agent takes this "
        "channel's calls.",
    )
    hold_music_url: AnyHttpUrl | None = Field(
        default=None, description="Played to a caller on hold (`<Play>`); silence without it."
    )
    hold_check_seconds: Integer = Field(
        default=5, ge=1, le=60, description="How often, on hold, the call asks whether an agent has taken it."
    )
    voicemail_prompt: str = Field(
        default=DEFAULT_VOICEMAIL_PROMPT,
        min_length=1,
        max_length=1000,
        description="Said before the voicemail to a caller nobody took on hold (with a queue).",
    )
    record_calls: StrictBool = Field(
        default=False,
        description="Record each conversation with an agent from the answer; its link is logged on the case.",
    )
    agent_ring_seconds: Integer = Field(
        default=20, ge=5, le=120, description="How long the agent who took the call is rung before the voicemail."
    )
    transcribe: StrictBool = Field(default=True, description="Ask the provider for a transcript of each voicemail.")
    business_hours_id: uuid.UUID | None = Field(
        default=None,
        description="sla-engine's business-hours schedule (`/api/v1/business-hours/{id}`) the channel is open in; "
        "outside it a caller hears `after_hours_message` and, with `voicemail`, leaves one (no queue). Null: "
        "always open. Checked on save: one sla-engine does not have is a 404 `unknown-reference`.",
    )
    after_hours_message: str = Field(
        default=DEFAULT_AFTER_HOURS_MESSAGE,
        min_length=1,
        max_length=1000,
        description="Said instead of the greeting outside business hours.",
    )
    callback_keypress: StrictBool = Field(
        default=False,
        description="On hold (with a queue), the caller may press 1 to hang up and be called back: the call's "
        "case keeps its place in its queue and is tagged `callback`, as a voicemail's case is.",
    )
    callback_prompt: str = Field(
        default=DEFAULT_CALLBACK_PROMPT,
        min_length=1,
        max_length=1000,
        description="Said once after the greeting when the caller may press 1 to be called back.",
    )
    callback_confirmation: str = Field(
        default=DEFAULT_CALLBACK_CONFIRMATION,
        min_length=1,
        max_length=1000,
        description="Said to a caller who pressed 1, before the call ends.",
    )

    @field_validator("phone_numbers")
    @classmethod
    def _distinct(cls, numbers: list[str]) -> list[str]:
        return list(dict.fromkeys(numbers))


class VoiceConfig(VoiceChannelBase):
    """A voice channel's settings as stored (sealed) and used (opened)."""

    auth_token: str


class VoiceChannelIn(StrictInput, VoiceChannelBase):
    name: str = Field(min_length=1, max_length=200)
    enabled: StrictBool = True
    auth_token: Secret = Field(description="The provider's auth token: it signs the webhooks. Write-only.")
    brand: BrandSlug | None = Field(
        default=None, description="The slug of a brand of `/api/v1/brands`: the brand of the channel's cases."
    )
    defaults: RouteDefaults = Field(default_factory=RouteDefaults)

    def config(self) -> VoiceConfig:
        return VoiceConfig.model_validate(self.model_dump(exclude={"name", "enabled", "defaults"}))


class VoiceChannelOut(VoiceChannelBase):
    id: uuid.UUID
    name: str
    enabled: bool
    defaults: CaseDefaults
    voice_url: str = Field(description="Set at the provider as the numbers' incoming call webhook (POST).")
    status_callback_url: str = Field(
        description="Set at the provider as the numbers' call status callback (POST); recordings and transcripts "
        "come back to it too."
    )
    version: int
    created_at: datetime
    updated_at: datetime
    page_name: ClassVar[str] = "VoiceChannelList"


class VoiceCall(BaseModel):
    id: uuid.UUID
    call_sid: str
    direction: Literal["inbound", "outbound"]
    from_number: str
    to_number: str
    status: str = Field(description="The provider's latest call status: ringing, in-progress, completed, no-answer…")
    duration_seconds: int | None
    recording_url: str | None
    transcription: str | None
    answered_by: uuid.UUID | None = Field(description="The agent (user id) an inbound call was connected to.")
    placed_by: uuid.UUID | None = Field(description="The agent (user id) who placed an outbound call.")
    answered_at: datetime | None
    case_id: uuid.UUID | None = Field(description="The case the call is logged on, once case-core confirmed it.")
    started_at: datetime
    ended_at: datetime | None
    callback_requested_at: datetime | None = Field(
        default=None, description="When the caller asked to be called back (a voicemail, or 1 pressed on hold)."
    )
    callback_completed_at: datetime | None = Field(
        default=None, description="When a click-to-call from the call's case reached the customer."
    )
    callback_completed_by: uuid.UUID | None = Field(
        default=None, description="The outbound call (its id) that completed the callback."
    )
    page_name: ClassVar[str] = "VoiceCallList"


class OutboundCallIn(StrictInput):
    """A call placed from a case: the provider rings ``to`` from the channel's first number."""

    channel_id: uuid.UUID = Field(description="The voice channel (its provider account and number) to call from.")
    to: PhoneNumber | None = Field(
        default=None,
        description="The customer's number (E.164). Left out: the case's requester's first phone number (a "
        "requester with none is a 409 naming this field).",
    )
