"""collaboration: files attached to swarm messages (their bytes in the kit's blob store).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

S = "collaboration"


def upgrade() -> None:
    op.create_table(
        "swarm_message_attachments",
        sa.Column("message_id", sa.Uuid, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("swarm_id", sa.Uuid, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("message_id", "position", name="pk_swarm_message_attachments"),
        sa.ForeignKeyConstraint(
            ["message_id"],
            [f"{S}.swarm_messages.id"],
            ondelete="CASCADE",
            name="fk_swarm_message_attachments_message_id_swarm_messages",
        ),
        schema=S,
    )
    op.create_index(
        "ix_swarm_message_attachments_swarm_sha256", "swarm_message_attachments", ["swarm_id", "sha256"], schema=S
    )


def downgrade() -> None:
    op.drop_table("swarm_message_attachments", schema=S)
