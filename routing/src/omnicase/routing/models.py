"""Tables of the ``routing`` schema (owned by routing alone)."""

from omnicase.kit.db import service_metadata
from omnicase.kit.inbox import inbox_table
from omnicase.kit.outbox import outbox_table

metadata = service_metadata("routing")
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
