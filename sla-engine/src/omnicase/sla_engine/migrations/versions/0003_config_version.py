"""sla-engine: config_version, moved by every write to policies, automations and schedules.

Revision ID: 0003
Revises: 0002
"""

from omnicase.ops.migrations import drop_config_version, install_config_version

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

S = "sla_engine"
WATCHED = ("policies", "automations", "schedules")


def upgrade() -> None:
    install_config_version(S, WATCHED)


def downgrade() -> None:
    drop_config_version(S, WATCHED)
