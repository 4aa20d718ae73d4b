"""gateway settings: environment variables prefixed ``GATEWAY_``."""

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from omnicase.kit.settings import ServiceSettings

# Where each service listens in the embedded dev stack (ServiceSpec.dev_port).
DEV_SERVICE_URLS = {
    "case-core": "http://127.0.0.1:8081",
    "intake-email": "http://127.0.0.1:8082",
    "intake-web": "http://127.0.0.1:8083",
    "routing": "http://127.0.0.1:8084",
    "sla-engine": "http://127.0.0.1:8085",
}


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="GATEWAY_")

    service_name: ClassVar[str] = "gateway"

    port: int = 8080
    # JSON object, e.g. {"case-core": "http://case-core:8080", ...}
    service_urls: dict[str, str] = Field(default_factory=lambda: dict(DEV_SERVICE_URLS))
    upstream_connect_timeout: float = Field(default=3.0, gt=0)
    upstream_read_timeout: float = Field(default=30.0, gt=0)
    upstream_max_connections: int = Field(default=200, ge=1)
