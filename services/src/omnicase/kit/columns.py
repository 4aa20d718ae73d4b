"""Columns every service's tables declare alike, defined once so a table says only what is its own."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, DateTime, Integer, Uuid

# Every stored moment is timezone-aware (RFC 3339 UTC in the API).
TIMESTAMP = DateTime(timezone=True)


def id_column() -> Column[uuid.UUID]:
    """The primary key of an entity table: a UUID the service assigns (UUIDv7)."""
    return Column("id", Uuid, primary_key=True)


def timestamps() -> tuple[Column[datetime], Column[datetime]]:
    """``created_at`` and ``updated_at``, both required."""
    return Column("created_at", TIMESTAMP, nullable=False), Column("updated_at", TIMESTAMP, nullable=False)


def version_column() -> Column[int]:
    """The row's version, one up with every change (optimistic concurrency, ``If-Match``)."""
    return Column("version", Integer, nullable=False)
