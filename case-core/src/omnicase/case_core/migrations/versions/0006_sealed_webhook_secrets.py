"""case-core: webhook signing secrets hold sealed tokens (longer than the plain secrets were).

Existing plain secrets keep working; the dispatcher's reseal pass seals them after the
upgrade (a migration has no master key to seal with).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

S = "case_core"


def upgrade() -> None:
    for column in ("secret", "previous_secret"):
        op.alter_column("webhook_subscriptions", column, type_=sa.Text(), existing_type=sa.String(100), schema=S)


def downgrade() -> None:
    # Sealed tokens do not fit the old width: a downgrade needs the plain secrets back first.
    for column in ("secret", "previous_secret"):
        op.alter_column("webhook_subscriptions", column, type_=sa.String(100), existing_type=sa.Text(), schema=S)
