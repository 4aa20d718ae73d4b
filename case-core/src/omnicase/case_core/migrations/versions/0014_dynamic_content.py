"""case-core: dynamic content, named texts with a variant per locale (issue 22).

Revision ID: 0014
Revises: 0013

Frozen DDL (not generated from the live models at run time), so this revision
means the same thing forever.
"""

from alembic import op

from omnicase.ops.migrations import watch_config_tables

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

S = "case_core"


def upgrade() -> None:
    op.execute(
        """
CREATE TABLE case_core.dynamic_content (
    id UUID NOT NULL,
    name VARCHAR(64) NOT NULL,
    text TEXT NOT NULL,
    variants JSONB DEFAULT '{}' NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_dynamic_content PRIMARY KEY (id)
)"""
    )
    op.execute("CREATE UNIQUE INDEX uq_dynamic_content_name ON case_core.dynamic_content (name)")
    # Read per rendered text through a VersionedCache: a write moves config_version.
    watch_config_tables(S, ("dynamic_content",))


def downgrade() -> None:
    op.execute("DROP TABLE case_core.dynamic_content")
