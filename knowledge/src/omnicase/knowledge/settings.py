"""knowledge settings: environment variables prefixed ``KNOWLEDGE_``."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from omnicase.kit.settings import ServiceSettings


class KnowledgeSettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="KNOWLEDGE_")

    service_name: ClassVar[str] = "knowledge"

    port: int = 8086
