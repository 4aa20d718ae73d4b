"""intake-email settings: environment variables prefixed ``INTAKE_EMAIL_``."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from omnicase.kit.settings import ServiceSettings


class IntakeEmailSettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="INTAKE_EMAIL_")

    service_name: ClassVar[str] = "intake-email"

    port: int = 8082
