"""Saved case lists (views): filters, columns and sort; personal, a group's, or everyone's."""

from sqlalchemy import CheckConstraint, Column, Index, Integer, String, Table, Uuid
from sqlalchemy.dialects.postgresql import JSONB

from omnicase.case_core.models import metadata
from omnicase.kit.columns import id_column, timestamps

views = Table(
    "views",
    metadata,
    id_column(),
    Column("name", String(200), nullable=False),
    Column("visibility", String(16), nullable=False),
    Column("owner", String(200)),
    Column("group_id", Uuid),
    Column("filters", JSONB, nullable=False),
    Column("columns", JSONB, nullable=False),
    Column("sort", String(32), nullable=False),
    Column("position", Integer, nullable=False),
    *timestamps(),
    CheckConstraint("visibility IN ('personal', 'group', 'everyone')", name="visibility"),
)

# The sidebar asks for "mine, my groups', everyone's" on every page load.
Index("ix_views_owner", views.c.owner)
Index("ix_views_group_id", views.c.group_id)
