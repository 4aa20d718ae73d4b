"""Tables of the ``gateway`` schema (owned by gateway alone)."""

from omnicase.kit.db import service_metadata

metadata = service_metadata("gateway")
