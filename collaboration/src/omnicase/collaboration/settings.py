"""collaboration settings: environment variables prefixed ``COLLABORATION_``."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from omnicase.kit.settings import ServiceSettings


class CollaborationSettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="COLLABORATION_")

    service_name: ClassVar[str] = "collaboration"

    port: int = 8088
