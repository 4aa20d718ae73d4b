"""reporting settings: environment variables prefixed ``REPORTING_``."""

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from omnicase.kit.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="REPORTING_")

    service_name: ClassVar[str] = "reporting"

    port: int = 8087
    # sla-engine's base URL, for the business-hours schedules (default: OMNICASE_SERVICE_URLS).
    sla_engine_url: str | None = None
    # How often the business-hours worker counts the durations of cases whose times or schedule moved.
    business_hours_seconds: float = Field(default=5.0, gt=0)
    # How long a schedule read from sla-engine is used before it is asked again.
    schedule_ttl_seconds: float = Field(default=60.0, ge=0)
    # Connections a report's statements run on at once (one shared snapshot): 1 runs them one by one.
    report_connections: int = Field(default=2, ge=1, le=8)
