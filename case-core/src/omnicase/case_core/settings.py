"""case-core settings: environment variables prefixed ``CASE_CORE_``."""

from typing import ClassVar

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from omnicase.kit.app import Runtime
from omnicase.kit.languages import DEFAULT_MIN_CONFIDENCE, SCRIPT_LANGUAGES, lingua_codes
from omnicase.kit.settings import ServiceSettings


class CaseCoreSettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="CASE_CORE_")

    service_name: ClassVar[str] = "case-core"

    port: int = 8081
    # Region used to read phone numbers written without a country code (ISO 3166 alpha-2,
    # e.g. "DE"); unset, such numbers are not matched to contacts.
    default_phone_region: str | None = Field(default=None, min_length=2, max_length=2)
    max_attachment_bytes: int = Field(default=25 * 1024 * 1024, ge=1)
    max_attachments_per_message: int = Field(default=20, ge=1, le=100)
    # How many transactions apply one fetch of intake messages or case commands, each taking
    # whole partitions (the kit's ``partitions_at_once``); each holds a database connection.
    consumer_partitions_at_once: int = Field(default=4, ge=1, le=32)

    # Languages (languages.py): each new case's language is detected among the locales its
    # brands support and these; lingua's guess counts at this confidence or above, below it the
    # contact's locale, then the brand's default, are the case's.
    detect_languages: list[str] = Field(default=["en"], max_length=75)
    language_min_confidence: float = Field(default=DEFAULT_MIN_CONFIDENCE, gt=0, le=1)

    @field_validator("detect_languages")
    @classmethod
    def _detectable(cls, codes: list[str]) -> list[str]:
        unknown = sorted({code.split("-")[0].lower() for code in codes} - lingua_codes() - SCRIPT_LANGUAGES)
        if unknown:
            raise ValueError(f"lingua cannot detect {', '.join(unknown)}")
        return codes

    # Outbound webhooks (webhooks/): how often due deliveries are looked for, how many go
    # out at once, and how long one may take.
    webhook_poll_seconds: float = Field(default=1.0, gt=0)
    webhook_batch_size: int = Field(default=20, ge=1, le=500)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    # Retries: exponential backoff with jitter from base to cap; a delivery that failed
    # this many times in a row is given up (it can still be redelivered by hand).
    webhook_max_attempts: int = Field(default=10, ge=1, le=50)
    webhook_retry_base_seconds: float = Field(default=30.0, gt=0)
    webhook_retry_max_seconds: float = Field(default=6 * 3600.0, gt=0)
    # A receiver's Retry-After is honoured up to this.
    webhook_retry_after_max_seconds: float = Field(default=3600.0, gt=0)
    # A subscription whose receiver failed at least this many attempts in a row, for at
    # least this long, is disabled (an admin re-enables it).
    webhook_disable_after_failures: int = Field(default=20, ge=1)
    webhook_disable_after_seconds: float = Field(default=3 * 24 * 3600.0, ge=0)
    # After a secret rotation the old secret signs beside the new one this long.
    webhook_secret_grace_seconds: float = Field(default=24 * 3600.0, ge=0)
    # The delivery log keeps settled deliveries this long.
    webhook_log_retention_days: int = Field(default=30, ge=1)

    # routing (agents' addresses, group membership): unset, routing's entry in the suite-wide
    # OMNICASE_SERVICE_URLS. Membership answers are kept this long.
    routing_url: str | None = None
    routing_timeout_seconds: float = Field(default=5.0, gt=0)
    staff_directory_ttl_seconds: float = Field(default=30.0, ge=0)

    # knowledge (suggested articles in auto-responses, articles.py): unset, knowledge's entry in the
    # suite-wide OMNICASE_SERVICE_URLS. Asked while an intake batch is open, so kept short.
    knowledge_url: str | None = None
    knowledge_timeout_seconds: float = Field(default=3.0, gt=0, le=30)

    # Staff notifications (trigger emails to an assignee or a group, webhook-disable notices):
    # recipients are resolved from routing off the request path; while routing cannot answer,
    # retried with backoff, then the notification is marked failed with the reason.
    notification_poll_seconds: float = Field(default=1.0, gt=0)
    notification_batch_size: int = Field(default=20, ge=1, le=500)
    notification_max_attempts: int = Field(default=8, ge=1, le=50)
    notification_retry_base_seconds: float = Field(default=30.0, gt=0)
    notification_retry_max_seconds: float = Field(default=3600.0, gt=0)
    # A `requested` notification with no send report after this long is `failed` (the report was lost).
    notification_report_timeout_seconds: float = Field(default=86_400.0, gt=0)
    # Settled (`sent` / `failed`) notifications are deleted after this many days.
    notification_retention_days: int = Field(default=30, ge=1)
    # How often each replica times out and prunes notifications.
    notification_housekeeping_seconds: float = Field(default=300.0, gt=0)
    # Who hears of a webhook subscription disabled for sustained failure when the
    # subscription names nobody (its own notify_email wins).
    webhook_notify_email: str | None = Field(default=None, max_length=320)

    # Held messages (the suspended-messages queue): deleted this many days after they were
    # held unless recovered first; recovered and deleted ones are remembered as long again.
    held_message_retention_days: int = Field(default=14, ge=1, le=365)
    held_message_sweep_seconds: float = Field(default=300.0, gt=0)

    # Satisfaction surveys (csat/): the links in a survey point at the public entry (the gateway),
    # whose address browsers reach; how often due surveys are looked for.
    public_base_url: str = Field(
        default="http://127.0.0.1:8080",
        description="Where customers' browsers reach the public routes (the gateway), for the survey's links.",
    )
    csat_sweep_seconds: float = Field(default=10.0, gt=0)


# case-core keeps no runtime state of its own: its services are built once per app (``wiring.Services``).
CaseCoreRuntime = Runtime[CaseCoreSettings, None]
