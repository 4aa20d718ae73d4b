"""routing settings: environment variables prefixed ``ROUTING_``."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from omnicase.kit.settings import ServiceSettings


class RoutingSettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="ROUTING_")

    service_name: ClassVar[str] = "routing"

    port: int = 8084
