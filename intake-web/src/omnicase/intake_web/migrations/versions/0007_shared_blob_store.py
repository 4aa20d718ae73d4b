"""intake-web: attachment bytes move to the suite's blob store (``omnicase_blobs``), shared by every service.

Revision ID: 0007
Revises: 0006

``omnicase migrate`` creates ``omnicase_blobs`` before any service's migration.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "INSERT INTO omnicase_blobs.blobs (sha256, size, content, created_at) "
        "SELECT sha256, size, data, created_at FROM intake_web.blobs ON CONFLICT (sha256) DO NOTHING"
    )
    op.execute("DROP TABLE intake_web.blobs")


def downgrade() -> None:
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("sha256", name="pk_blobs"),
        schema="intake_web",
    )
    op.execute(
        "INSERT INTO intake_web.blobs (sha256, size, data, created_at) "
        "SELECT sha256, size, content, created_at FROM omnicase_blobs.blobs"
    )
