"""How the kit finds and runs reporting (entry point ``omnicase.services``)."""

from omnicase.kit.service import ServiceSpec

SPEC = ServiceSpec(
    name="reporting",
    description="The read model for metrics (fed from the topics, rebuildable), metrics API and CSV export.",
    dev_port=8087,
    start_order=40,
)
