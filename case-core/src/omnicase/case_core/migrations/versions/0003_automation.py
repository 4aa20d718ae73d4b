"""case-core automation: outbound webhooks (subscriptions, allowed networks, deliveries, attempts),
triggers, views, macros.

Revision ID: 0003
Revises: 0002

Frozen DDL (not generated from the live models at run time), so this revision
means the same thing forever.
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UPGRADE = [
    """
CREATE TABLE case_core.webhook_subscriptions (
    id UUID NOT NULL,
    url VARCHAR(2000) NOT NULL,
    description VARCHAR(500) DEFAULT '' NOT NULL,
    event_types VARCHAR(64)[] NOT NULL,
    secret VARCHAR(100) NOT NULL,
    previous_secret VARCHAR(100),
    previous_secret_expires_at TIMESTAMP WITH TIME ZONE,
    active BOOLEAN DEFAULT true NOT NULL,
    disabled_reason TEXT,
    disabled_at TIMESTAMP WITH TIME ZONE,
    consecutive_failures INTEGER DEFAULT 0 NOT NULL,
    failing_since TIMESTAMP WITH TIME ZONE,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_webhook_subscriptions PRIMARY KEY (id)
)
""",
    "CREATE INDEX ix_webhook_subscriptions_event_types ON case_core.webhook_subscriptions USING gin (event_types)",
    """
CREATE TABLE case_core.webhook_allowed_networks (
    id UUID NOT NULL,
    network CIDR NOT NULL,
    note VARCHAR(500) DEFAULT '' NOT NULL,
    created_by VARCHAR(200) NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_webhook_allowed_networks PRIMARY KEY (id),
    CONSTRAINT uq_webhook_allowed_networks_network UNIQUE (network)
)
""",
    """
CREATE TABLE case_core.webhook_deliveries (
    id UUID NOT NULL,
    subscription_id UUID NOT NULL,
    event_id UUID NOT NULL,
    event_type VARCHAR(64) NOT NULL,
    payload JSONB NOT NULL,
    status VARCHAR(16) NOT NULL,
    attempts INTEGER DEFAULT 0 NOT NULL,
    round_attempts INTEGER DEFAULT 0 NOT NULL,
    next_attempt_at TIMESTAMP WITH TIME ZONE,
    last_status_code INTEGER,
    last_error TEXT,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    delivered_at TIMESTAMP WITH TIME ZONE,
    CONSTRAINT pk_webhook_deliveries PRIMARY KEY (id),
    CONSTRAINT fk_webhook_deliveries_subscription_id_webhook_subscriptions
        FOREIGN KEY(subscription_id)
        REFERENCES case_core.webhook_subscriptions (id) ON DELETE CASCADE,
    CONSTRAINT ck_webhook_deliveries_status CHECK (status IN ('pending', 'succeeded', 'failed'))
)
""",
    """
CREATE INDEX ix_webhook_deliveries_due ON case_core.webhook_deliveries (next_attempt_at)
    WHERE status = 'pending'
""",
    """
CREATE INDEX ix_webhook_deliveries_settled ON case_core.webhook_deliveries (updated_at)
    WHERE status <> 'pending'
""",
    """
CREATE INDEX ix_webhook_deliveries_subscription_id_id
    ON case_core.webhook_deliveries (subscription_id, id)
""",
    """
CREATE UNIQUE INDEX ix_webhook_deliveries_subscription_id_event_id_event_type
    ON case_core.webhook_deliveries (subscription_id, event_id, event_type)
""",
    """
CREATE TABLE case_core.webhook_attempts (
    id UUID NOT NULL,
    delivery_id UUID NOT NULL,
    attempted_at TIMESTAMP WITH TIME ZONE NOT NULL,
    status_code INTEGER,
    error TEXT,
    response_body TEXT,
    duration_ms INTEGER NOT NULL,
    CONSTRAINT pk_webhook_attempts PRIMARY KEY (id),
    CONSTRAINT fk_webhook_attempts_delivery_id_webhook_deliveries
        FOREIGN KEY(delivery_id)
        REFERENCES case_core.webhook_deliveries (id) ON DELETE CASCADE
)
""",
    "CREATE INDEX ix_webhook_attempts_delivery_id ON case_core.webhook_attempts (delivery_id)",
    """
CREATE TABLE case_core.triggers (
    id UUID NOT NULL,
    name VARCHAR(200) NOT NULL,
    description VARCHAR(1000) DEFAULT '' NOT NULL,
    active BOOLEAN DEFAULT true NOT NULL,
    position INTEGER NOT NULL,
    conditions JSONB NOT NULL,
    actions JSONB NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_triggers PRIMARY KEY (id)
)
""",
    "CREATE INDEX ix_triggers_active_position ON case_core.triggers (active, position)",
    """
CREATE TABLE case_core.trigger_runs (
    id UUID NOT NULL,
    case_id UUID NOT NULL,
    version INTEGER NOT NULL,
    fired JSONB NOT NULL,
    stopped_reason TEXT,
    at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_trigger_runs PRIMARY KEY (id)
)
""",
    "CREATE INDEX ix_trigger_runs_case_id_at ON case_core.trigger_runs (case_id, at)",
    """
CREATE TABLE case_core.views (
    id UUID NOT NULL,
    name VARCHAR(200) NOT NULL,
    visibility VARCHAR(16) NOT NULL,
    owner VARCHAR(200),
    group_id UUID,
    filters JSONB NOT NULL,
    columns JSONB NOT NULL,
    sort VARCHAR(32) NOT NULL,
    position INTEGER NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_views PRIMARY KEY (id),
    CONSTRAINT ck_views_visibility CHECK (visibility IN ('personal', 'group', 'everyone'))
)
""",
    "CREATE INDEX ix_views_owner ON case_core.views (owner)",
    "CREATE INDEX ix_views_group_id ON case_core.views (group_id)",
    """
CREATE TABLE case_core.macros (
    id UUID NOT NULL,
    name VARCHAR(200) NOT NULL,
    description VARCHAR(1000) DEFAULT '' NOT NULL,
    active BOOLEAN DEFAULT true NOT NULL,
    position INTEGER DEFAULT 0 NOT NULL,
    group_ids UUID[] DEFAULT '{}' NOT NULL,
    actions JSONB NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_macros PRIMARY KEY (id)
)
""",
    "CREATE INDEX ix_macros_group_ids ON case_core.macros USING gin (group_ids)",
]

DOWNGRADE = [
    "DROP TABLE case_core.macros",
    "DROP TABLE case_core.views",
    "DROP TABLE case_core.trigger_runs",
    "DROP TABLE case_core.triggers",
    "DROP TABLE case_core.webhook_attempts",
    "DROP TABLE case_core.webhook_deliveries",
    "DROP TABLE case_core.webhook_allowed_networks",
    "DROP TABLE case_core.webhook_subscriptions",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
