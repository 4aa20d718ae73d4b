"""knowledge: an article linked to a case whose reply carried it (``attached``).

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

S = "knowledge"


# The name 0006 gave it (the naming convention applied to its explicit name).
NAME = "ck_article_cases_ck_article_cases_relation"


def _relations(allowed: str) -> None:
    op.execute(f"ALTER TABLE {S}.article_cases DROP CONSTRAINT {NAME}")
    op.execute(f"ALTER TABLE {S}.article_cases ADD CONSTRAINT {NAME} CHECK (relation IN ({allowed}))")


def upgrade() -> None:
    _relations("'captured', 'solved', 'attached'")


def downgrade() -> None:
    op.execute(f"DELETE FROM {S}.article_cases WHERE relation = 'attached'")
    _relations("'captured', 'solved'")
