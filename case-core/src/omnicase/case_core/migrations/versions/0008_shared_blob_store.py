"""case-core: attachment bytes move to the suite's blob store (``omnicase_blobs``), shared by every service.

Revision ID: 0008
Revises: 0007

Frozen DDL (not generated from the live models at run time), so this revision
means the same thing forever. ``omnicase migrate`` creates ``omnicase_blobs`` first.
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "INSERT INTO omnicase_blobs.blobs (sha256, size, content, created_at) "
        "SELECT sha256, size, data, created_at FROM case_core.blobs ON CONFLICT (sha256) DO NOTHING"
    )
    op.execute("DROP TABLE case_core.blobs")


def downgrade() -> None:
    op.execute(
        """
CREATE TABLE case_core.blobs (
    sha256 VARCHAR(64) NOT NULL,
    size BIGINT NOT NULL,
    data BYTEA NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_blobs PRIMARY KEY (sha256)
)"""
    )
    op.execute(
        "INSERT INTO case_core.blobs (sha256, size, data, created_at) "
        "SELECT b.sha256, b.size, b.content, b.created_at FROM omnicase_blobs.blobs b "
        "WHERE b.sha256 IN (SELECT sha256 FROM case_core.message_attachments)"
    )
