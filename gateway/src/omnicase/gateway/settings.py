"""gateway settings: environment variables prefixed ``GATEWAY_``.

The bootstrap admin is read from the suite-wide ``OMNICASE_BOOTSTRAP_ADMIN_EMAIL``
/ ``OMNICASE_BOOTSTRAP_ADMIN_PASSWORD`` (``GATEWAY_``-prefixed forms work too).
"""

import ipaddress
from typing import ClassVar, Self

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from omnicase.kit.settings import ServiceSettings

# Where each service listens in the embedded dev stack (ServiceSpec.dev_port).
DEV_SERVICE_URLS = {
    "case-core": "http://127.0.0.1:8081",
    "intake-email": "http://127.0.0.1:8082",
    "intake-web": "http://127.0.0.1:8083",
    "routing": "http://127.0.0.1:8084",
    "sla-engine": "http://127.0.0.1:8085",
    "knowledge": "http://127.0.0.1:8086",
    "reporting": "http://127.0.0.1:8087",
    "collaboration": "http://127.0.0.1:8088",
}

DEV_TOKEN_SECRET = "omnicase-dev-token-secret-change-me-please"


def _env(name: str) -> AliasChoices:
    return AliasChoices(name, f"OMNICASE_{name.upper()}", f"GATEWAY_{name.upper()}")


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="GATEWAY_", populate_by_name=True)

    service_name: ClassVar[str] = "gateway"

    port: int = 8080
    # JSON object, e.g. {"case-core": "http://case-core:8080", ...}
    service_urls: dict[str, str] = Field(default_factory=lambda: dict(DEV_SERVICE_URLS))
    upstream_connect_timeout: float = Field(default=3.0, gt=0)
    upstream_read_timeout: float = Field(default=30.0, gt=0)
    upstream_max_connections: int = Field(default=200, ge=1)

    # Identity and tokens.
    token_secret: str = DEV_TOKEN_SECRET
    access_token_seconds: int = Field(default=900, ge=30, le=86_400)
    refresh_token_days: int = Field(default=30, ge=1, le=365)
    identity_token_seconds: int = Field(default=60, ge=5, le=600)
    # argon2id cost (RFC 9106 low-memory profile by default); only tests should go lower.
    password_time_cost: int = Field(default=3, ge=1, le=20)
    password_memory_kib: int = Field(default=65_536, ge=1024, le=4_194_304)
    lockout_threshold: int = Field(default=5, ge=1, le=100)
    lockout_minutes: int = Field(default=15, ge=1, le=1440)
    bootstrap_admin_email: str | None = Field(default=None, validation_alias=_env("bootstrap_admin_email"))
    bootstrap_admin_password: str | None = Field(default=None, validation_alias=_env("bootstrap_admin_password"))

    # Request limits.
    max_body_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    max_inspected_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_page_size: int = Field(default=100, ge=1, le=1000)

    # Rate limits: `requests` per fixed `window` of seconds, counted in PostgreSQL for all replicas.
    rate_limit_enabled: bool = True
    rate_limit_ip_requests: int = Field(default=1200, ge=1)
    rate_limit_token_requests: int = Field(default=600, ge=1)
    rate_limit_window_seconds: int = Field(default=60, ge=1, le=86_400)
    # Longest wait for the shared counter; past it the request is counted in this replica only.
    rate_limit_store_timeout: float = Field(default=0.25, gt=0, le=5)
    # Connections of the counters' own pool (autocommit, apart from the units of work).
    rate_limit_pool_size: int = Field(default=10, ge=1, le=200)

    # Load balancers whose X-Forwarded-For is believed (addresses or CIDR ranges).
    trusted_proxies: list[str] = Field(default_factory=list)

    # CORS: exact origins ("https://console.example.com"); empty means no cross-origin access.
    cors_origins: list[str] = Field(default_factory=list)

    # Merged OpenAPI document.
    openapi_cache_seconds: float = Field(default=30.0, ge=0)
    # A service builds its document on first request; a busy one takes seconds.
    openapi_fetch_timeout: float = Field(default=10.0, gt=0)

    # Live event stream (GET /api/v1/stream): each replica reads case.events, sla.events and
    # routing.events itself and keeps this much history for clients resuming with Last-Event-ID.
    stream_enabled: bool = True
    stream_history_seconds: float = Field(default=600.0, ge=0)
    stream_history_max_events: int = Field(default=50_000, ge=100)
    stream_heartbeat_seconds: float = Field(default=15.0, gt=0)
    # Events waiting for one slow client; past it the stream ends and the client resumes.
    stream_queue_size: int = Field(default=1000, ge=10)
    # A stream ends after this long (the client resumes with Last-Event-ID, authenticating again).
    stream_max_seconds: float = Field(default=900.0, gt=0)
    stream_ticket_seconds: int = Field(default=60, ge=5, le=3600)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                ipaddress.ip_network(value.strip(), strict=False)
            except ValueError as error:
                raise ValueError(f"{value!r} is not an address or CIDR range") from error
        return values

    @model_validator(mode="after")
    def _no_default_token_secret_in_prod(self) -> Self:
        if self.env == "prod" and self.token_secret == DEV_TOKEN_SECRET:
            raise ValueError("token_secret: the built-in development secret is refused when env=prod")
        if len(self.token_secret) < 32:
            raise ValueError("token_secret: must be at least 32 characters")
        if self.token_secret == self.internal_secret:
            raise ValueError("token_secret: must differ from the internal secret")
        if self.bootstrap_admin_password is not None and len(self.bootstrap_admin_password) < 12:
            raise ValueError("bootstrap_admin_password: must be at least 12 characters")
        return self
