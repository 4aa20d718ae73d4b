"""How the kit finds and runs knowledge (entry point ``omnicase.services``)."""

from omnicase.kit.service import ServiceSpec

SPEC = ServiceSpec(
    name="knowledge",
    description="Knowledge base (sections, articles, translations, versions) and multilingual search.",
    package="omnicase.knowledge",
    schema="knowledge",
    env_prefix="KNOWLEDGE_",
    dev_port=8086,
    start_order=40,
)
