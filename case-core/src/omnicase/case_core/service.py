"""How the kit finds and runs case-core (entry point ``omnicase.services``)."""

from omnicase.kit.service import ServiceSpec

SPEC = ServiceSpec(
    name="case-core",
    description=(
        "The single writer of case state: inbound messages become cases or thread replies; "
        "contacts, organizations, history, views, macros, triggers."
    ),
    dev_port=8081,
    start_order=10,
)
