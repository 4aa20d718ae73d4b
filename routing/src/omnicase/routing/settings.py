"""routing settings: environment variables prefixed ``ROUTING_``."""

from typing import Annotated, ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from omnicase.kit.events import Channel
from omnicase.kit.settings import ServiceSettings

DEFAULT_CHANNEL_COSTS: dict[Channel, int] = {
    Channel.EMAIL: 1,
    Channel.WEB: 1,
    Channel.API: 1,
    Channel.SOCIAL: 2,
    Channel.SMS: 3,
    Channel.MESSAGING: 3,
    Channel.VOICE: 5,
}


class RoutingSettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="ROUTING_")

    service_name: ClassVar[str] = "routing"

    port: int = 8084
    timer_poll_interval: float = Field(
        default=1.0, gt=0, le=60, description="Seconds between polls of due offer timeouts and overflows."
    )
    sweep_interval: float = Field(
        default=5.0,
        gt=0,
        le=600,
        description="Seconds between checks for online agents with free capacity and waiting work that fits "
        "(a safety net for work that lost a race with a capacity change).",
    )
    timer_batch_size: int = Field(default=100, ge=1, le=10_000, description="Due timers handled per transaction.")
    channel_costs: dict[Channel, Annotated[int, Field(ge=1, le=1000)]] = Field(
        default_factory=lambda: dict(DEFAULT_CHANNEL_COSTS),
        description="Capacity units a case of each channel takes (JSON object); channels left out cost 1.",
    )
    decision_candidates_kept: int = Field(
        default=50, ge=1, le=5000, description="Candidates written to one decision's log entry (best first)."
    )

    def cost_of(self, channel: Channel) -> int:
        return self.channel_costs.get(channel, 1)
