"""Tables of the ``gateway`` schema (owned by gateway alone): users, login sessions, tokens, rate-limit counters."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY

from omnicase.kit.columns import id_column, timestamps
from omnicase.kit.db import service_metadata

metadata = service_metadata("gateway")

ROLES = ("admin", "agent", "light_agent", "end_user")

users = Table(
    "users",
    metadata,
    id_column(),
    # Stored lower-cased: one account per address whatever the case typed at login.
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("password_hash", Text, nullable=True),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("agent_id", Uuid, nullable=True),
    Column("contact_id", Uuid, nullable=True),
    Column("organization_id", Uuid, nullable=True),
    Column("organization_cases", Boolean, nullable=False, server_default=text("false")),
    Column("failed_logins", Integer, nullable=False, server_default=text("0")),
    Column("locked_until", DateTime(timezone=True), nullable=True),
    Column("last_login_at", DateTime(timezone=True), nullable=True),
    *timestamps(),
    CheckConstraint("role IN ('admin', 'agent', 'light_agent', 'end_user')", name="role"),
    Index("ix_users_role_active", "role", "active"),
    Index("uq_users_agent_id", "agent_id", unique=True, postgresql_where=text("agent_id IS NOT NULL")),
    Index("uq_users_contact_id", "contact_id", unique=True, postgresql_where=text("contact_id IS NOT NULL")),
)

# A login: one family of refresh tokens; revoking it ends every token of the login.
sessions = Table(
    "sessions",
    metadata,
    id_column(),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    # The scopes asked for at login (a subset of the role's); NULL means all of the role's.
    Column("scopes", ARRAY(String(64)), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("revoked_reason", String(40), nullable=True),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    id_column(),
    Column("session_id", Uuid, ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("token_hash", LargeBinary(32), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
    # Set when the token was exchanged; a second exchange is a replay.
    Column("used_at", DateTime(timezone=True), nullable=True),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    id_column(),
    Column("name", String(200), nullable=False),
    Column("token_hash", LargeBinary(32), nullable=False, unique=True),
    Column("token_prefix", String(16), nullable=False),
    Column("scopes", ARRAY(String(64)), nullable=False),
    Column("created_by", Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("last_used_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

# Requests per (policy:subject, window) shared by every replica. UNLOGGED: counters are
# worth nothing after a crash (the window is over by then) and skip the WAL on every hit.
rate_limit_counters = Table(
    "rate_limit_counters",
    metadata,
    Column("key", Text, primary_key=True),
    # Unix seconds of the window's start (windows are aligned to multiples of their length).
    Column("window_start", BigInteger, primary_key=True),
    Column("count", Integer, nullable=False),
    prefixes=["UNLOGGED"],
)
