"""Tables of the ``intake_email`` schema (owned by intake-email alone)."""

from omnicase.kit.db import service_metadata
from omnicase.kit.inbox import inbox_table
from omnicase.kit.outbox import outbox_table

metadata = service_metadata("intake_email")
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
