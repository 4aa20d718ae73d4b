"""CSAT tables: the admin's survey settings (one row; absent: the built-in defaults)."""

from sqlalchemy import Boolean, CheckConstraint, Column, DateTime, Integer, SmallInteger, String, Table, text
from sqlalchemy.dialects.postgresql import JSONB

from omnicase.case_core.models import metadata

TIMESTAMP = DateTime(timezone=True)

csat_settings = Table(
    "csat_settings",
    metadata,
    Column("id", SmallInteger, primary_key=True, server_default="1"),
    Column("enabled", Boolean, nullable=False),
    Column("delay_seconds", Integer, nullable=False),
    Column("reasons", JSONB, nullable=False, server_default=text("'[]'")),
    Column("texts", JSONB, nullable=False, server_default=text("'{}'")),
    Column("updated_by", String(200), nullable=False),
    Column("updated_at", TIMESTAMP, nullable=False),
    CheckConstraint("id = 1", name="single"),
    CheckConstraint("delay_seconds >= 0", name="delay_seconds"),
)
