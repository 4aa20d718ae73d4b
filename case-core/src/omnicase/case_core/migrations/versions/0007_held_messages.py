"""case-core: held messages (the suspended-messages queue staff can recover from).

Revision ID: 0007
Revises: 0006

Frozen DDL (not generated from the live models at run time), so this revision
means the same thing forever.
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UPGRADE = [
    """
CREATE TABLE case_core.held_messages (
    id UUID NOT NULL,
    source VARCHAR(80) NOT NULL,
    channel VARCHAR(20) NOT NULL,
    reason VARCHAR(20) NOT NULL,
    detail TEXT NOT NULL,
    sender JSONB NOT NULL,
    subject TEXT,
    message JSONB NOT NULL,
    received_at TIMESTAMP WITH TIME ZONE NOT NULL,
    held_at TIMESTAMP WITH TIME ZONE NOT NULL,
    expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
    status VARCHAR(16) NOT NULL,
    case_id UUID,
    case_number INTEGER,
    settled_by VARCHAR(200),
    settled_at TIMESTAMP WITH TIME ZONE,
    CONSTRAINT pk_held_messages PRIMARY KEY (id),
    CONSTRAINT ck_held_messages_status CHECK (status IN ('held', 'recovered', 'deleted'))
)""",
    "CREATE INDEX ix_held_messages_held ON case_core.held_messages (received_at DESC, id DESC) WHERE status = 'held'",
    "CREATE INDEX ix_held_messages_expires_at ON case_core.held_messages (expires_at) WHERE status = 'held'",
    "CREATE INDEX ix_held_messages_settled_at ON case_core.held_messages (settled_at) WHERE status != 'held'",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE case_core.held_messages")
