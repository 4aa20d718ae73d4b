"""Tables of the ``case_core`` schema (owned by case-core alone)."""

from omnicase.kit.db import service_metadata
from omnicase.kit.inbox import inbox_table
from omnicase.kit.outbox import outbox_table

metadata = service_metadata("case_core")
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
