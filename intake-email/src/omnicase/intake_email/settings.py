"""intake-email settings: environment variables prefixed ``INTAKE_EMAIL_``."""

from typing import ClassVar, Literal, Self

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from omnicase.kit.settings import ServiceSettings


class ImapAccount(BaseModel):
    """An existing mailbox polled over IMAP; its mail is taken in for the Omnicase mailbox ``mailbox``."""

    mailbox: str = Field(description="The configured support address this account's mail belongs to.")
    host: str
    port: int = Field(default=993, ge=1, le=65535)
    security: Literal["ssl", "starttls", "none"] = "ssl"
    username: str
    password: SecretStr
    folder: str = "INBOX"
    processed_folder: str | None = Field(
        default=None, description="Move processed mail here; when unset it is flagged \\Seen and left in place."
    )
    ca_file: str | None = Field(default=None, description="CA bundle to trust for the server's certificate.")

    @property
    def key(self) -> str:
        return f"{self.username}@{self.host}:{self.port}/{self.folder}"[:700]


class IntakeEmailSettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="INTAKE_EMAIL_")

    service_name: ClassVar[str] = "intake-email"

    port: int = 8082

    # Roles of a process: a replica may only take mail in (no consumers, no sender).
    consume_events: bool = Field(
        default=True, description="Consume case.events (acknowledgements) and outbound.messages (sending)."
    )
    send_mail: bool = Field(default=True, description="Run the outbound sender loop.")

    # SMTP listener (inbound).
    smtp_enabled: bool = True
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=2525, ge=0, le=65535, description="0 picks a free port (tests).")
    smtp_hostname: str = Field(default="omnicase.local", description="Name the listener greets with.")
    max_message_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    smtp_tls_cert_file: str | None = None
    smtp_tls_key_file: str | None = None
    smtp_require_starttls: bool = False
    smtp_timeout_seconds: float = Field(default=300.0, gt=0)
    mailbox_cache_check_seconds: float = Field(
        default=1.0,
        gt=0,
        description=(
            "How often each process checks whether any mailbox changed (one small query); SMTP RCPT and DATA "
            "read mailboxes from the process's cache. Changes made through this process apply at once."
        ),
    )

    # IMAP polling: a JSON list, e.g. [{"mailbox": "support@acme.test", "host": "imap.acme.test",
    # "username": "support", "password": "…", "security": "ssl"}].
    imap_accounts: list[ImapAccount] = Field(default_factory=list)
    imap_poll_interval_seconds: float = Field(default=60.0, gt=0)
    imap_timeout_seconds: float = Field(default=60.0, gt=0)

    # Inbound-parse webhook: a mailbox's own secret wins over this one.
    webhook_secret: str | None = Field(default=None, min_length=16)

    # Loops and noise.
    sender_rate_limit: int = Field(default=20, ge=1, description="Messages per sender per window before suspension.")
    sender_rate_window_seconds: int = Field(default=3600, ge=1)
    sender_suspension_seconds: int = Field(default=3600, ge=1)

    # End-to-end acknowledgement.
    republish_after_seconds: float = Field(default=300.0, gt=0)
    republish_interval_seconds: float = Field(default=30.0, gt=0)

    # Outbound relay.
    relay_host: str = "127.0.0.1"
    relay_port: int = Field(default=25, ge=1, le=65535)
    relay_starttls: bool = False
    relay_use_tls: bool = False
    relay_username: str | None = None
    relay_password: SecretStr | None = None
    relay_timeout_seconds: float = Field(default=30.0, gt=0)
    relay_ca_file: str | None = Field(default=None, description="CA bundle to trust for the relay's certificate.")
    send_lease_seconds: float = Field(
        default=120.0, gt=0, description="How long a sender holds a message it is sending before another may retry it."
    )
    send_max_attempts: int = Field(default=8, ge=1)
    send_backoff_initial_seconds: float = Field(default=30.0, gt=0)
    send_backoff_max_seconds: float = Field(default=3600.0, gt=0)
    send_poll_interval_seconds: float = Field(default=1.0, gt=0)
    default_from_address: str | None = Field(
        default=None, description="Sender of outbound mail for cases no mailbox is known for."
    )
    templates_dir: str | None = Field(
        default=None, description="Per-brand template overrides: <dir>/<brand>/<name>.txt.j2 and .html.j2."
    )
    message_id_domain: str = "omnicase.local"
    case_core_url: str | None = Field(
        default=None,
        description="case-core's base URL (the brands mailboxes may name); unset, its entry in OMNICASE_SERVICE_URLS.",
    )
    case_core_timeout_seconds: float = Field(default=3.0, gt=0, le=30)
    auto_response_interval_seconds: int = Field(
        default=3600,
        ge=0,
        description="At most one auto-response per address in this window (stops auto-responder ping-pong).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.smtp_require_starttls and not self.smtp_tls_cert_file:
            raise ValueError("smtp_require_starttls needs smtp_tls_cert_file (and usually smtp_tls_key_file)")
        if self.relay_starttls and self.relay_use_tls:
            raise ValueError("relay_starttls and relay_use_tls exclude each other: STARTTLS or implicit TLS")
        if (self.relay_username is None) != (self.relay_password is None):
            raise ValueError("relay_username and relay_password go together")
        return self
