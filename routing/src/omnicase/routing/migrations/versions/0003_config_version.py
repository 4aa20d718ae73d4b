"""routing: config_version, moved by every write to rules, rule skills, queues and skills.

Consumers cache that configuration in-process and read this one row per batch to know
whether their copy is still current (another replica's API may have changed it); see
:mod:`omnicase.kit.config_version`.

Revision ID: 0003
Revises: 0002
"""

from omnicase.ops.migrations import drop_config_version, install_config_version

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

S = "routing"
WATCHED = ("rules", "rule_skills", "groups", "skills")


def upgrade() -> None:
    install_config_version(S, WATCHED)


def downgrade() -> None:
    drop_config_version(S, WATCHED)
