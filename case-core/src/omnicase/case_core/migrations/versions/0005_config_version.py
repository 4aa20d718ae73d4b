"""case-core: config_version, moved by every write to triggers, webhook subscriptions,
auto-response templates and custom field definitions.

The intake and the webhook fan-out read that configuration for every event; they cache
it in-process and read this one row per transaction to know whether their copy is still
current (another replica's API may have changed it); see :mod:`omnicase.kit.config_version`.

Revision ID: 0005
Revises: 0004
"""

from omnicase.ops.migrations import drop_config_version, install_config_version

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

S = "case_core"
WATCHED = ("triggers", "webhook_subscriptions", "auto_response_templates", "custom_field_definitions")


def upgrade() -> None:
    install_config_version(S, WATCHED)


def downgrade() -> None:
    drop_config_version(S, WATCHED)
