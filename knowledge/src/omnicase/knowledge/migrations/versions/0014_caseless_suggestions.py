"""knowledge: a suggestion may name no case: a chat question the widget holds back until the visitor asks
for a person (answers first), whose "this answered my question" is counted and solves nothing.

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

S = "knowledge"


def upgrade() -> None:
    op.alter_column("suggestions", "case_id", nullable=True, schema=S)


def downgrade() -> None:
    # Suggestions that never had a case cannot be kept under a rule that every one has.
    op.execute(f"DELETE FROM {S}.suggestions WHERE case_id IS NULL")
    op.alter_column("suggestions", "case_id", nullable=False, schema=S)
