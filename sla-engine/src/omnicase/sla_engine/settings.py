"""sla-engine settings: environment variables prefixed ``SLA_ENGINE_``."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from omnicase.kit.settings import ServiceSettings


class SlaEngineSettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="SLA_ENGINE_")

    service_name: ClassVar[str] = "sla-engine"

    port: int = 8085
