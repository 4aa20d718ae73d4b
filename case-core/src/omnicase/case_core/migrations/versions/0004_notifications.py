"""case-core automation, second part: staff notifications (trigger emails to an assignee or a
group, webhook-disable notices), the auto-response template, who hears of a disabled webhook.

Revision ID: 0004
Revises: 0003

Frozen DDL (not generated from the live models at run time), so this revision
means the same thing forever.
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UPGRADE = [
    """
CREATE TABLE case_core.notifications (
    id UUID NOT NULL,
    reason VARCHAR(200) NOT NULL,
    case_id UUID,
    trigger_id UUID,
    subscription_id UUID,
    recipient_kind VARCHAR(16) NOT NULL,
    recipient_id UUID,
    recipient_email VARCHAR(320),
    recipients JSONB DEFAULT '[]' NOT NULL,
    subject VARCHAR(500) NOT NULL,
    text TEXT NOT NULL,
    html TEXT,
    brand VARCHAR(100),
    status VARCHAR(16) NOT NULL,
    attempts INTEGER DEFAULT 0 NOT NULL,
    next_attempt_at TIMESTAMP WITH TIME ZONE,
    last_error TEXT,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_notifications PRIMARY KEY (id),
    CONSTRAINT ck_notifications_status CHECK (status IN ('pending', 'requested', 'sent', 'failed')),
    CONSTRAINT ck_notifications_recipient_kind CHECK (recipient_kind IN ('agent', 'group', 'email'))
)
""",
    "CREATE INDEX ix_notifications_due ON case_core.notifications (next_attempt_at) WHERE status = 'pending'",
    "CREATE INDEX ix_notifications_case_id_created_at ON case_core.notifications (case_id, created_at)",
    "CREATE INDEX ix_notifications_subscription_id ON case_core.notifications (subscription_id)",
    "ALTER TABLE case_core.webhook_subscriptions ADD COLUMN notify_email VARCHAR(320)",
    """
CREATE TABLE case_core.auto_response_templates (
    id SMALLINT DEFAULT 1 NOT NULL,
    text TEXT NOT NULL,
    variants JSONB DEFAULT '[]' NOT NULL,
    updated_by VARCHAR(200) NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_auto_response_templates PRIMARY KEY (id),
    CONSTRAINT ck_auto_response_templates_single CHECK (id = 1)
)
""",
]

DOWNGRADE = [
    "DROP TABLE case_core.auto_response_templates",
    "ALTER TABLE case_core.webhook_subscriptions DROP COLUMN notify_email",
    "DROP TABLE case_core.notifications",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
