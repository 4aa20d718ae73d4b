"""case-core settings: environment variables prefixed ``CASE_CORE_``."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from omnicase.kit.settings import ServiceSettings


class CaseCoreSettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="CASE_CORE_")

    service_name: ClassVar[str] = "case-core"

    port: int = 8081
