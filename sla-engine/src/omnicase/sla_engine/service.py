"""How the kit finds and runs sla-engine (entry point ``omnicase.services``)."""

from omnicase.kit.service import ServiceSpec

SPEC = ServiceSpec(
    name="sla-engine",
    description=("Business hours, SLA policies, milestones, warnings, breaches, escalations, time-based automations."),
    dev_port=8085,
    start_order=30,
)
