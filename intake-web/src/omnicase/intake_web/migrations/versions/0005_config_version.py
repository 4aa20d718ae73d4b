"""intake-web: config_version, moved by every change of ``forms`` (for the in-process cache).

Revision ID: 0005
Revises: 0004
"""

from omnicase.ops.migrations import drop_config_version, install_config_version

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

S = "intake_web"
WATCHED = ("forms",)


def upgrade() -> None:
    install_config_version(S, WATCHED)


def downgrade() -> None:
    drop_config_version(S, WATCHED)
