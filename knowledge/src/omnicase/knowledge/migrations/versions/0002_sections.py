"""knowledge: sections per brand, ordered.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

S = "knowledge"


def upgrade() -> None:
    op.create_table(
        "sections",
        sa.Column("id", sa.Uuid),
        sa.Column("brand", sa.String(100), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sections"),
        schema=S,
    )
    op.create_index("ix_sections_brand_position", "sections", ["brand", "position", "id"], schema=S)


def downgrade() -> None:
    op.drop_table("sections", schema=S)
