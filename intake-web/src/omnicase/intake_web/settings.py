"""intake-web settings: environment variables prefixed ``INTAKE_WEB_``."""

from ipaddress import IPv4Network, IPv6Network
from typing import ClassVar, Self

from pydantic import Field, IPvAnyNetwork, model_validator
from pydantic_settings import SettingsConfigDict

from omnicase.kit.settings import ServiceSettings

DEV_FORM_TOKEN_SECRET = "omnicase-dev-form-token-secret"
DEV_WIDGET_TOKEN_SECRET = "omnicase-dev-widget-conversation-secret"


def _loopback() -> list[IPv4Network | IPv6Network]:
    # The embedded stack's gateway reaches services over loopback.
    return [IPv4Network("127.0.0.0/8"), IPv6Network("::1/128")]


class IntakeWebSettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="INTAKE_WEB_")

    service_name: ClassVar[str] = "intake-web"

    port: int = 8083
    public_base_url: str | None = Field(
        default=None,
        description=(
            "Where browsers and providers reach the public routes (the gateway), used in generated HTML and "
            "to check SMS signatures; unset, the URL of the request that asked is used."
        ),
    )
    trusted_proxies: list[IPvAnyNetwork] = Field(
        default_factory=_loopback,
        description=(
            "Peers (the gateway) whose X-Forwarded-For is believed: the client address of rate limits and captcha "
            "checks is then its last entry. JSON list of addresses or networks."
        ),
    )
    form_token_secret: str = Field(default=DEV_FORM_TOKEN_SECRET, min_length=16)
    widget_token_secret: str = Field(
        default=DEV_WIDGET_TOKEN_SECRET,
        min_length=16,
        description="Signs the chat widget's conversation tokens (kept in visitors' browsers).",
    )
    widget_token_days: int = Field(
        default=90, ge=1, le=3650, description="How long a visitor's conversation token lets them continue."
    )
    widget_heartbeat_seconds: float = Field(
        default=15.0,
        gt=0,
        description="A comment line on an idle widget stream (below the gateway's upstream read timeout), "
        "and how often a stream re-reads its conversation in case a wake-up was missed.",
    )
    widget_stream_max_seconds: float = Field(
        default=900.0, gt=0, description="Longest widget stream; the browser reconnects and resumes."
    )
    widget_answers_interval_seconds: float = Field(
        default=0.5, gt=0, description="How often the widget looks for new chats waiting for their suggested articles."
    )
    widget_email_interval_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How often the widget looks for agent replies left unread past their widget's delay, to mail them.",
    )
    knowledge_url: str | None = Field(
        default=None,
        description="knowledge's base URL (suggested articles for the widget's answers first); unset, its entry "
        "in OMNICASE_SERVICE_URLS.",
    )
    knowledge_timeout_seconds: float = Field(default=3.0, gt=0, le=30)
    routing_url: str | None = Field(
        default=None,
        description="routing's base URL (which agent took a call on hold); unset, its entry in OMNICASE_SERVICE_URLS.",
    )
    routing_timeout_seconds: float = Field(default=3.0, gt=0, le=30)
    sla_engine_url: str | None = Field(
        default=None,
        description="sla-engine's base URL (a voice channel's or chat widget's business-hours schedule); unset, "
        "its entry in OMNICASE_SERVICE_URLS.",
    )
    schedule_ttl_seconds: float = Field(
        default=60.0, gt=0, le=3600, description="How long a business-hours schedule read from sla-engine is used."
    )
    voice_provider_timeout_seconds: float = Field(
        default=10.0, gt=0, le=60, description="How long the telephony provider may take to place a call."
    )
    case_core_url: str | None = Field(
        default=None,
        description="case-core's base URL (the brands forms and channels may name, and whose look a hosted form "
        "wears); unset, its entry in "
        "OMNICASE_SERVICE_URLS.",
    )
    case_core_timeout_seconds: float = Field(default=3.0, gt=0, le=30)
    max_request_bytes: int = Field(default=30 * 1024 * 1024, ge=1024, description="Largest accepted request body.")
    max_webhook_bytes: int = Field(default=1024 * 1024, ge=1024, description="Largest accepted webhook body.")
    max_media_bytes: int = Field(
        default=16 * 1024 * 1024, ge=1024, description="Largest file fetched from a messaging provider."
    )
    captcha_timeout_seconds: float = Field(default=5.0, gt=0)
    form_cache_check_seconds: float = Field(
        default=1.0,
        gt=0,
        description=(
            "How often each process checks whether any form changed (one small query), so a form edited "
            "through another replica is re-read from then on; edits through this process apply at once."
        ),
    )
    # End-to-end acknowledgement: a message case-core has not confirmed within this
    # many seconds is published again.
    republish_after_seconds: float = Field(default=300.0, gt=0)
    republish_interval_seconds: float = Field(default=30.0, gt=0)
    # Standard Webhooks: timestamps further off than this either way are refused.
    webhook_tolerance_seconds: int = Field(default=300, ge=1)
    # Outbound delivery through providers' HTTP APIs.
    delivery_interval_seconds: float = Field(default=1.0, gt=0)
    delivery_max_attempts: int = Field(default=6, ge=1)
    delivery_backoff_initial_seconds: float = Field(default=2.0, gt=0)
    delivery_backoff_max_seconds: float = Field(default=600.0, gt=0)
    delivery_timeout_seconds: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _no_dev_form_secret_in_prod(self) -> Self:
        if self.env == "prod" and self.form_token_secret == DEV_FORM_TOKEN_SECRET:
            raise ValueError("form_token_secret: the development secret is refused when env=prod")
        if self.env == "prod" and self.widget_token_secret == DEV_WIDGET_TOKEN_SECRET:
            raise ValueError("widget_token_secret: the development secret is refused when env=prod")
        return self
