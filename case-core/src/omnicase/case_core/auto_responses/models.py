"""The admin's auto-response text (one row; absent: the built-in default)."""

from sqlalchemy import CheckConstraint, Column, DateTime, SmallInteger, String, Table, Text, text
from sqlalchemy.dialects.postgresql import JSONB

from omnicase.case_core.models import metadata

auto_response_templates = Table(
    "auto_response_templates",
    metadata,
    Column("id", SmallInteger, primary_key=True, server_default="1"),
    Column("text", Text, nullable=False),
    Column("variants", JSONB, nullable=False, server_default=text("'[]'")),
    Column("updated_by", String(200), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("id = 1", name="single"),
)
