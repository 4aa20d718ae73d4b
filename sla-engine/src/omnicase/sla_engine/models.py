"""Tables of the ``sla_engine`` schema (owned by sla-engine alone)."""

from omnicase.kit.db import service_metadata
from omnicase.kit.inbox import inbox_table
from omnicase.kit.outbox import outbox_table

metadata = service_metadata("sla_engine")
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
