"""case-core: CSAT survey settings (one row; absent: the built-in defaults, surveys off).

Revision ID: 0009
Revises: 0008

Frozen DDL (not generated from the live models at run time), so this revision
means the same thing forever.
"""

from alembic import op

from omnicase.ops.migrations import watch_config_tables

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

S = "case_core"

UPGRADE = [
    """
CREATE TABLE case_core.csat_settings (
    id SMALLINT DEFAULT 1 NOT NULL,
    enabled BOOLEAN NOT NULL,
    delay_seconds INTEGER NOT NULL,
    reasons JSONB DEFAULT '[]' NOT NULL,
    texts JSONB DEFAULT '{}' NOT NULL,
    updated_by VARCHAR(200) NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_csat_settings PRIMARY KEY (id),
    CONSTRAINT ck_csat_settings_single CHECK (id = 1),
    CONSTRAINT ck_csat_settings_delay_seconds CHECK (delay_seconds >= 0)
)""",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)
    # Read per solved case through a VersionedCache: a write moves config_version.
    watch_config_tables(S, ("csat_settings",))


def downgrade() -> None:
    op.execute("DROP TABLE case_core.csat_settings")
