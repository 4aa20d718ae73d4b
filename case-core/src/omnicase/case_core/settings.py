"""case-core settings: environment variables prefixed ``CASE_CORE_``."""

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

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
    # Where inbound email attachments are fetched from the first time they are downloaded
    # (intake-email keeps the bytes it received); unset, they cannot be downloaded.
    intake_email_url: str | None = "http://127.0.0.1:8082"
