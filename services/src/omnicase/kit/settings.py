"""Settings shared by every service.

Each service subclasses :class:`ServiceSettings` with its own ``env_prefix``
(``CASE_CORE_``, ``GATEWAY_`` …). A handful of values are suite-wide and are read
unprefixed as well, so one ``DATABASE_URL`` or ``KAFKA_BOOTSTRAP_SERVERS`` switches
every service at once; the prefixed form wins where both are set.

Settings are validated when a service starts (:func:`load_settings`): a bad value
stops it with one line per bad variable, naming the variable as the operator typed
it, instead of a pydantic traceback.
"""

from __future__ import annotations

import os
import re
from typing import Any, ClassVar, Literal, Self, TypeVar

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.exceptions import SettingsError as PydanticSettingsError

from omnicase.kit.sealing import DEV_KEY_ID, DEV_MASTER_KEY, Sealer, decode_master_keys
from omnicase.kit.service import get_service

DEV_INTERNAL_SECRET = "omnicase-dev-internal-secret-change-me"

Environment = Literal["dev", "test", "prod"]

# Field name -> the unprefixed, suite-wide environment variable that also sets it.
SHARED_ENV = {
    "env": "OMNICASE_ENV",
    "database_url": "DATABASE_URL",
    "kafka_bootstrap_servers": "KAFKA_BOOTSTRAP_SERVERS",
    "kafka_enable_idempotence": "KAFKA_ENABLE_IDEMPOTENCE",
    "topic_prefix": "OMNICASE_TOPIC_PREFIX",
    "consumer_session_timeout_ms": "OMNICASE_CONSUMER_SESSION_TIMEOUT_MS",
    "consumer_heartbeat_interval_ms": "OMNICASE_CONSUMER_HEARTBEAT_INTERVAL_MS",
    "inbox_retention_hours": "OMNICASE_INBOX_RETENTION_HOURS",
    "outbox_retention_hours": "OMNICASE_OUTBOX_RETENTION_HOURS",
    "internal_secret": "OMNICASE_INTERNAL_SECRET",
    "master_keys": "OMNICASE_MASTER_KEYS",
    "master_key_id": "OMNICASE_MASTER_KEY_ID",
    "service_urls": "OMNICASE_SERVICE_URLS",
    "blob_store": "OMNICASE_BLOB_STORE",
    "blob_s3_endpoint": "OMNICASE_BLOB_S3_ENDPOINT",
    "blob_s3_bucket": "OMNICASE_BLOB_S3_BUCKET",
    "blob_s3_region": "OMNICASE_BLOB_S3_REGION",
    "blob_s3_access_key": "OMNICASE_BLOB_S3_ACCESS_KEY",
    "blob_s3_secret_key": "OMNICASE_BLOB_S3_SECRET_KEY",
    "log_level": "OMNICASE_LOG_LEVEL",
    "access_log": "OMNICASE_ACCESS_LOG",
    "host": "OMNICASE_HOST",
    "port": "OMNICASE_PORT",
}


class SettingsError(Exception):
    """Raised at start when settings are invalid; ``str()`` is ready to print."""


class _SharedEnvSource(PydanticBaseSettingsSource):
    """Reads the suite-wide unprefixed variables, below the prefixed ones in priority."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        env_name = SHARED_ENV.get(field_name)
        if env_name is None:
            return None, field_name, False
        raw = os.environ.get(env_name)
        is_complex = self.field_is_complex(field)
        return raw, field_name, is_complex

    def prepare_field_value(self, field_name: str, field: FieldInfo, value: Any, value_is_complex: bool) -> Any:
        if value is not None and value_is_complex:
            try:
                return self.decode_complex_value(field_name, field, value)
            except ValueError as error:
                # Worded as pydantic-settings words its own, which load_settings turns into one line.
                raise PydanticSettingsError(
                    f'error parsing value for field "{field_name}" from source "{type(self).__name__}"'
                ) from error
        return value

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for field_name in self.settings_cls.model_fields:
            field = self.settings_cls.model_fields[field_name]
            value, _, is_complex = self.get_field_value(field, field_name)
            if value is not None:
                values[field_name] = self.prepare_field_value(field_name, field, value, is_complex)
        return values


def normalize_database_url(url: str) -> str:
    """Accept the ``postgresql://`` form operators and CloudNativePG hand out; use asyncpg."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+asyncpg://" + url[len(plain) :]
    return url


class ServiceSettings(BaseSettings):
    """Base of every service's settings; subclasses set ``env_prefix``."""

    model_config = SettingsConfigDict(extra="ignore", env_prefix="OMNICASE_")

    service_name: ClassVar[str] = "omnicase"

    env: Environment = "dev"
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    # Several processes of this service share its ports (SO_REUSEPORT; `omnicase up` sets it
    # when it runs more than one). Off, a port already bound elsewhere is a loud error rather
    # than a silent share with a stranger.
    shared_port: bool = False
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # A JSON line per HTTP request (uvicorn's access log); off: /metrics counts and times them.
    access_log: bool = False

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/omnicase"
    db_pool_size: int = Field(default=10, ge=1, le=200)

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # Apache Kafka: on. The embedded Tansu broker answers InitProducerId with an
    # error, so the dev stack turns it off; the inbox drops duplicates either way.
    kafka_enable_idempotence: bool = False
    topic_prefix: str = ""
    # Kafka's defaults; Tansu admits a new group member only about two session
    # timeouts after the previous one left, so the dev stack and tests go shorter.
    consumer_session_timeout_ms: int = Field(default=10_000, ge=1_000, le=300_000)
    consumer_heartbeat_interval_ms: int = Field(default=3_000, ge=100, le=100_000)
    # Longer than the broker may redeliver (Kafka's default retention is 7 days).
    inbox_retention_hours: float = Field(default=168, ge=1, le=24 * 90)
    # How far back `omnicase outbox replay` can reach after a broker lost data; keep it
    # shorter than the inbox retention, or consumers could apply a replayed event twice.
    outbox_retention_hours: float = Field(default=1, ge=0.1, le=24 * 7)

    internal_secret: str = DEV_INTERNAL_SECRET
    # Master keys sealing secrets at rest (omnicase.kit.sealing): JSON object, key id ->
    # base64 of 32 random bytes; empty means the development key. The current one seals.
    master_keys: dict[str, str] = Field(default_factory=dict)
    master_key_id: str = DEV_KEY_ID
    # Where the other services listen (JSON object, service name -> base URL), for the
    # few calls one service makes to another; unnamed ones are at their dev-stack port.
    service_urls: dict[str, str] = Field(default_factory=dict)
    # Where file bytes live, for every service alike (omnicase.kit.blobs).
    blob_store: Literal["postgres", "s3"] = "postgres"
    blob_s3_endpoint: str = ""
    blob_s3_bucket: str = "omnicase-blobs"
    blob_s3_region: str = "us-east-1"
    blob_s3_access_key: str = ""
    blob_s3_secret_key: str = ""

    def sealer(self) -> Sealer:
        """Seals this service's secrets at rest with the configured master keys."""
        keys = self.master_keys or {DEV_KEY_ID: DEV_MASTER_KEY}
        return Sealer(decode_master_keys(keys), self.master_key_id)

    def service_url(self, name: str) -> str:
        """Base URL of service ``name``, without a trailing slash."""
        url = self.service_urls.get(name)
        if url is None:
            url = f"http://127.0.0.1:{get_service(name).dev_port}"
        return url.rstrip("/")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _SharedEnvSource(settings_cls), file_secret_settings)

    @field_validator("database_url")
    @classmethod
    def _asyncpg_driver(cls, value: str) -> str:
        value = normalize_database_url(value)
        if not value.startswith("postgresql+asyncpg://"):
            raise ValueError("must be a PostgreSQL URL (postgresql://… or postgresql+asyncpg://…)")
        return value

    @model_validator(mode="after")
    def _no_default_secret_outside_dev(self) -> Self:
        if self.env == "prod" and self.internal_secret == DEV_INTERNAL_SECRET:
            raise ValueError(
                "internal_secret: the built-in development secret is refused when env=prod; "
                "set OMNICASE_INTERNAL_SECRET"
            )
        keys = self.master_keys or {DEV_KEY_ID: DEV_MASTER_KEY}
        try:
            decode_master_keys(keys)
        except ValueError as error:
            raise ValueError(f"master_keys: {error}") from None
        if self.master_key_id not in keys:
            raise ValueError(f"master_key_id: {self.master_key_id!r} is not a key of OMNICASE_MASTER_KEYS")
        if self.env == "prod" and keys.get(self.master_key_id) == DEV_MASTER_KEY:
            raise ValueError(
                "master_key_id: the built-in development master key is refused when env=prod; "
                "set OMNICASE_MASTER_KEYS and OMNICASE_MASTER_KEY_ID (`omnicase keygen` makes a key)"
            )
        if len(self.internal_secret) < 16:
            raise ValueError("internal_secret: must be at least 16 characters")
        if self.blob_store == "s3" and not (
            self.blob_s3_endpoint and self.blob_s3_access_key and self.blob_s3_secret_key
        ):
            raise ValueError(
                "blob_store: s3 needs OMNICASE_BLOB_S3_ENDPOINT, OMNICASE_BLOB_S3_ACCESS_KEY "
                "and OMNICASE_BLOB_S3_SECRET_KEY"
            )
        if self.outbox_retention_hours > self.inbox_retention_hours:
            raise ValueError(
                "outbox_retention_hours: must not be longer than the inbox retention "
                f"({self.inbox_retention_hours:g} hours), or a replayed event could be applied twice"
            )
        return self


SettingsT = TypeVar("SettingsT", bound=ServiceSettings)


def env_name_for(settings_cls: type[ServiceSettings], field_name: str) -> str:
    """The variable an operator would set for ``field_name`` (prefixed form)."""
    prefix = settings_cls.model_config.get("env_prefix", "") or ""
    return f"{prefix}{field_name}".upper()


def describe_errors(settings_cls: type[ServiceSettings], error: ValidationError) -> str:
    lines = [f"invalid settings for {settings_cls.service_name}:"]
    for item in error.errors():
        loc = item.get("loc") or ()
        field_name = str(loc[0]) if loc else ""
        message = str(item.get("msg", "invalid value"))
        if field_name in settings_cls.model_fields:
            names = env_name_for(settings_cls, field_name)
            shared = SHARED_ENV.get(field_name)
            if shared:
                names += f" (or {shared})"
            given = item.get("input")
            shown = f" (got {given!r})" if isinstance(given, str | int | float) else ""
            lines.append(f"  {names}: {message}{shown}")
        else:
            # Model-level validators prefix their message with the field name.
            message = message.removeprefix("Value error, ")
            field_part, _, rest = message.partition(": ")
            if rest and field_part in settings_cls.model_fields:
                message = f"{env_name_for(settings_cls, field_part)}: {rest}"
            lines.append(f"  {message}")
    return "\n".join(lines)


def load_settings(settings_cls: type[SettingsT], **overrides: Any) -> SettingsT:
    """Build settings from the environment, or raise :class:`SettingsError` with readable lines."""
    try:
        return settings_cls(**overrides)
    except ValidationError as error:
        raise SettingsError(describe_errors(settings_cls, error)) from None
    except PydanticSettingsError as error:
        # A complex value (dict, list) that is not JSON fails before validation.
        match = re.search(r'field "([^"]+)"', str(error))
        field_name = match.group(1) if match else ""
        if field_name in settings_cls.model_fields:
            where = env_name_for(settings_cls, field_name)
            if field_name in SHARED_ENV:
                where += f" (or {SHARED_ENV[field_name]})"
            message = f"  {where}: not valid JSON (this setting takes a JSON object or list)"
        else:
            message = f"  {error}"
        raise SettingsError(f"invalid settings for {settings_cls.service_name}:\n{message}") from None
