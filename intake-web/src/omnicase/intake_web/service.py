"""How the kit finds and runs intake-web (entry point ``omnicase.services``)."""

from omnicase.kit.service import ServiceSpec

SPEC = ServiceSpec(
    name="intake-web",
    description="Web channels: Web-to-Case forms, messaging/SMS/social and generic integrator webhooks.",
    dev_port=8083,
    start_order=20,
)
