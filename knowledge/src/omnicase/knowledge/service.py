"""How the kit finds and runs knowledge (entry point ``omnicase.services``)."""

from omnicase.kit.service import ServiceSpec

SPEC = ServiceSpec(
    name="knowledge",
    description="Knowledge base (sections, articles, translations, versions) and multilingual search.",
    dev_port=8086,
    start_order=40,
)
