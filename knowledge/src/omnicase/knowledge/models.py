"""Tables of the ``knowledge`` schema (owned by knowledge alone)."""

from sqlalchemy import Column, DateTime, Index, Integer, String, Table, Text, Uuid

from omnicase.kit.db import service_metadata
from omnicase.kit.inbox import inbox_table
from omnicase.kit.outbox import outbox_table

metadata = service_metadata("knowledge")
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

# Sections (categories) of one brand's knowledge base, in their brand's order. A null brand is
# the suite's default brand, as on cases.
sections = Table(
    "sections",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("brand", String(100), nullable=True),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("position", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_sections_brand_position", "brand", "position", "id"),
)
