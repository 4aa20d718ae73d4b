"""sla-engine settings: environment variables prefixed ``SLA_ENGINE_``."""

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from omnicase.kit.settings import ServiceSettings


class SlaEngineSettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="SLA_ENGINE_")

    service_name: ClassVar[str] = "sla-engine"

    port: int = 8085
    scheduler_enabled: bool = Field(default=True, description="Run the timer worker in this process.")
    scheduler_poll_interval: float = Field(default=0.25, gt=0, le=10, description="Seconds between idle polls.")
    scheduler_batch_size: int = Field(default=200, ge=1, le=5000)
    scheduler_lease_seconds: float = Field(default=30.0, ge=1, le=3600)
    scheduler_concurrency: int = Field(default=4, ge=1, le=64)
    scheduler_max_attempts: int = Field(default=10, ge=1, le=100)
    webhook_timeout: float = Field(default=5.0, gt=0, le=60, description="Seconds per webhook delivery attempt.")
