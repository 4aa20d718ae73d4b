"""intake-web settings: environment variables prefixed ``INTAKE_WEB_``."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from omnicase.kit.settings import ServiceSettings


class IntakeWebSettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="INTAKE_WEB_")

    service_name: ClassVar[str] = "intake-web"

    port: int = 8083
