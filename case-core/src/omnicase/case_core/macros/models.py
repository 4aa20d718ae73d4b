"""Macros: named, ordered actions an agent applies to a case in one call."""

from sqlalchemy import Boolean, Column, Index, Integer, String, Table, Uuid, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from omnicase.case_core.models import metadata
from omnicase.kit.columns import id_column, timestamps

macros = Table(
    "macros",
    metadata,
    id_column(),
    Column("name", String(200), nullable=False),
    Column("description", String(1000), nullable=False, server_default=""),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("position", Integer, nullable=False, server_default="0"),
    # Empty: every agent's; else only these groups'.
    Column("group_ids", ARRAY(Uuid), nullable=False, server_default="{}"),
    Column("actions", JSONB, nullable=False),
    *timestamps(),
)

Index("ix_macros_group_ids", macros.c.group_ids, postgresql_using="gin")
