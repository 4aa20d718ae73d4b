"""collaboration settings: environment variables prefixed ``COLLABORATION_``."""

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from omnicase.kit.settings import ServiceSettings
from omnicase.kit.ssrf import IPNetwork


class CollaborationSettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="COLLABORATION_")

    service_name: ClassVar[str] = "collaboration"

    port: int = 8088
    # Where agents open a case (the link in a Slack thread's summary): <console_url>/cases/<id>.
    console_url: str = Field(default="http://127.0.0.1:8080", max_length=2000)
    # Cases are read through case-core's API, SLA due times through sla-engine's; unset, their
    # entries in the suite-wide OMNICASE_SERVICE_URLS.
    case_core_url: str | None = None
    sla_engine_url: str | None = None
    # The expert finder asks routing (agents, skills, presence, load) and knowledge (articles);
    # unset, their entries in the suite-wide OMNICASE_SERVICE_URLS.
    routing_url: str | None = None
    knowledge_url: str | None = None
    # Files on a swarm message (the same limits as case-core's messages by default).
    max_attachment_bytes: int = Field(default=25 * 1024 * 1024, ge=1)
    max_attachments_per_message: int = Field(default=20, ge=1, le=100)
    peer_timeout_seconds: float = Field(default=5.0, gt=0)
    # Slack's Web API calls go through the kit's SSRF guard: internal addresses only in these networks.
    slack_allowed_networks: list[IPNetwork] = Field(default_factory=list)
    slack_timeout_seconds: float = Field(default=10.0, gt=0)
    slack_poll_seconds: float = Field(default=1.0, gt=0)
    slack_batch_size: int = Field(default=20, ge=1, le=500)
    slack_max_attempts: int = Field(default=8, ge=1, le=50)
    slack_retry_base_seconds: float = Field(default=5.0, gt=0)
    slack_retry_max_seconds: float = Field(default=600.0, gt=0)
