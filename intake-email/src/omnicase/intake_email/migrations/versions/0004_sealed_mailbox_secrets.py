"""intake-email: a mailbox's webhook secret holds a sealed token (longer than the plain secret was).

Existing plain secrets keep verifying; the service's reseal pass seals them after the
upgrade (a migration has no master key to seal with).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

S = "intake_email"


def upgrade() -> None:
    op.alter_column("mailboxes", "webhook_secret", type_=sa.Text(), existing_type=sa.String(200), schema=S)


def downgrade() -> None:
    # Sealed tokens do not fit the old width: a downgrade needs the plain secrets back first.
    op.alter_column("mailboxes", "webhook_secret", type_=sa.String(200), existing_type=sa.Text(), schema=S)
