"""Trigger tables: the ordered business rules and the record of each run on a case."""

from sqlalchemy import Boolean, Column, Index, Integer, String, Table, Text, Uuid, text
from sqlalchemy.dialects.postgresql import JSONB

from omnicase.case_core.models import metadata
from omnicase.kit.columns import TIMESTAMP, id_column, timestamps, version_column

triggers = Table(
    "triggers",
    metadata,
    id_column(),
    Column("name", String(200), nullable=False),
    Column("description", String(1000), nullable=False, server_default=""),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("position", Integer, nullable=False),
    Column("conditions", JSONB, nullable=False),
    Column("actions", JSONB, nullable=False),
    *timestamps(),
)

# Every case change reads the active rules in order.
Index("ix_triggers_active_position", triggers.c.active, triggers.c.position)

trigger_runs = Table(
    "trigger_runs",
    metadata,
    id_column(),
    Column("case_id", Uuid, nullable=False),
    version_column(),
    Column("fired", JSONB, nullable=False),
    Column("stopped_reason", Text),
    Column("at", TIMESTAMP, nullable=False),
)

Index("ix_trigger_runs_case_id_at", trigger_runs.c.case_id, trigger_runs.c.at)
