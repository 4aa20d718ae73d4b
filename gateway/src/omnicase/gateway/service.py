"""How the kit finds and runs gateway (entry point ``omnicase.services``)."""

from omnicase.kit.service import ServiceSpec

SPEC = ServiceSpec(
    name="gateway",
    description=("The one public entry: identity, tokens, roles, proxying, merged OpenAPI, rate limits, CORS."),
    dev_port=8080,
    start_order=90,
)
