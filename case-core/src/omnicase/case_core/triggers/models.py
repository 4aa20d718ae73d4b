"""Trigger tables: the ordered business rules and the record of each run on a case."""

from sqlalchemy import Boolean, Column, DateTime, Index, Integer, String, Table, Text, Uuid, text
from sqlalchemy.dialects.postgresql import JSONB

from omnicase.case_core.models import metadata

TIMESTAMP = DateTime(timezone=True)

triggers = Table(
    "triggers",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("description", String(1000), nullable=False, server_default=""),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("position", Integer, nullable=False),
    Column("conditions", JSONB, nullable=False),
    Column("actions", JSONB, nullable=False),
    Column("created_at", TIMESTAMP, nullable=False),
    Column("updated_at", TIMESTAMP, nullable=False),
)

# Every case change reads the active rules in order.
Index("ix_triggers_active_position", triggers.c.active, triggers.c.position)

trigger_runs = Table(
    "trigger_runs",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("case_id", Uuid, nullable=False),
    Column("version", Integer, nullable=False),
    Column("fired", JSONB, nullable=False),
    Column("stopped_reason", Text),
    Column("at", TIMESTAMP, nullable=False),
)

Index("ix_trigger_runs_case_id_at", trigger_runs.c.case_id, trigger_runs.c.at)
