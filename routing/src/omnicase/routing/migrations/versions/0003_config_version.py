"""routing: config_version, bumped by every write to rules, rule skills, queues and skills.

Consumers cache that configuration in-process and read this one row per batch to know
whether their copy is still current (another replica's API may have changed it). The
statement triggers make it impossible to forget a bump; values come from a sequence so
a rolled-back change never hands out a version a committed one will use again.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

S = "routing"
WATCHED = ("rules", "rule_skills", "groups", "skills")


def upgrade() -> None:
    op.execute(f"CREATE SEQUENCE {S}.config_version_seq")
    op.create_table(
        "config_version",
        sa.Column("id", sa.SmallInteger, primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
        schema=S,
    )
    op.execute(f"INSERT INTO {S}.config_version (id, version) VALUES (1, nextval('{S}.config_version_seq'))")
    op.execute(
        f"""
        CREATE FUNCTION {S}.bump_config_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE {S}.config_version SET version = nextval('{S}.config_version_seq') WHERE id = 1;
            RETURN NULL;
        END
        $$
        """
    )
    for table in WATCHED:
        op.execute(
            f"CREATE TRIGGER bump_config_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {S}.{table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {S}.bump_config_version()"
        )


def downgrade() -> None:
    for table in WATCHED:
        op.execute(f"DROP TRIGGER bump_config_version ON {S}.{table}")
    op.execute(f"DROP FUNCTION {S}.bump_config_version()")
    op.drop_table("config_version", schema=S)
    op.execute(f"DROP SEQUENCE {S}.config_version_seq")
