"""intake-email: attachment bytes move to the suite's blob store (``omnicase_blobs``), shared by every service.

Revision ID: 0006
Revises: 0005

``omnicase migrate`` creates ``omnicase_blobs`` before any service's migration.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "INSERT INTO omnicase_blobs.blobs (sha256, size, content, created_at) "
        "SELECT sha256, size, content, created_at FROM intake_email.blobs ON CONFLICT (sha256) DO NOTHING"
    )
    op.execute("DROP TABLE intake_email.blobs")


def downgrade() -> None:
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_blobs"),
        schema="intake_email",
    )
    op.execute(
        "INSERT INTO intake_email.blobs (sha256, size, content, created_at) "
        "SELECT sha256, size, content, created_at FROM omnicase_blobs.blobs"
    )
