"""How the kit finds and runs intake-email (entry point ``omnicase.services``)."""

from omnicase.kit.service import ServiceSpec

SPEC = ServiceSpec(
    name="intake-email",
    description=(
        "The email channel, both directions: SMTP listener, inbound-parse webhook, IMAP polling, "
        "MIME parsing, outbound replies and auto-responses."
    ),
    dev_port=8082,
    start_order=20,
    extra_ports={"smtp": 2525},
)
