"""CSAT tables: the admin's survey settings (one row; absent: the built-in defaults), surveys, opt-outs."""

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

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

# One survey per solve of a case (unique case and solve time): scheduled when the case is solved,
# sent by the sweeper once due (the due time is the timer, so a restart loses none), then rated.
csat_surveys = Table(
    "csat_surveys",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("case_id", Uuid, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("solved_at", TIMESTAMP, nullable=False),
    Column("due_at", TIMESTAMP, nullable=False),
    Column("status", String(10), nullable=False),
    Column("skip_reason", String(200)),
    Column("sent_at", TIMESTAMP),
    Column("rating", String(4)),
    Column("reason", String(100)),
    Column("comment", Text),
    Column("rated_at", TIMESTAMP),
    # The ratings whose one-click link was used: a link records its rating once.
    Column("used_links", ARRAY(String(4)), nullable=False, server_default="{}"),
    UniqueConstraint("case_id", "solved_at"),
    CheckConstraint("status IN ('scheduled', 'sent', 'skipped')", name="status"),
    CheckConstraint("rating IN ('good', 'bad')", name="rating"),
    Index("ix_csat_surveys_due_at", "due_at", postgresql_where=text("status = 'scheduled'")),
)

# Requesters who asked for no surveys.
csat_opt_outs = Table(
    "csat_opt_outs",
    metadata,
    Column("contact_id", Uuid, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    Column("opted_out_by", String(200), nullable=False),
    Column("opted_out_at", TIMESTAMP, nullable=False),
)
