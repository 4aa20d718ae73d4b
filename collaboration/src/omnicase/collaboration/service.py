"""How the kit finds and runs collaboration (entry point ``omnicase.services``)."""

from omnicase.kit.service import ServiceSpec

SPEC = ServiceSpec(
    name="collaboration",
    description="Swarms of experts around a case, the expert finder, chat integrations (Slack first).",
    dev_port=8088,
    start_order=45,
)
