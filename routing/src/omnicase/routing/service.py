"""How the kit finds and runs routing (entry point ``omnicase.services``)."""

from omnicase.kit.service import ServiceSpec

SPEC = ServiceSpec(
    name="routing",
    description=("Agents, groups/queues, skills, presence and capacity; assignment rules; omni-channel push routing."),
    dev_port=8084,
    start_order=30,
)
