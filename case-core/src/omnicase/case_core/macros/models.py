"""Macros: named, ordered actions an agent applies to a case in one call."""

from sqlalchemy import Boolean, Column, DateTime, Index, Integer, String, Table, Uuid, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from omnicase.case_core.models import metadata

TIMESTAMP = DateTime(timezone=True)

macros = Table(
    "macros",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("description", String(1000), nullable=False, server_default=""),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("position", Integer, nullable=False, server_default="0"),
    # Empty: every agent's; else only these groups'.
    Column("group_ids", ARRAY(Uuid), nullable=False, server_default="{}"),
    Column("actions", JSONB, nullable=False),
    Column("created_at", TIMESTAMP, nullable=False),
    Column("updated_at", TIMESTAMP, nullable=False),
)

Index("ix_macros_group_ids", macros.c.group_ids, postgresql_using="gin")
