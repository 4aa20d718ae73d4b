"""intake-email: a generation counter bumped on every change of ``mailboxes`` (for the in-process cache).

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = "intake_email"


def upgrade() -> None:
    # One counter per cached table, bumped by a statement trigger on every change (whoever makes
    # it), so a process's cache can tell in one tiny read whether anything changed since it looked.
    op.execute(
        f"CREATE TABLE {SCHEMA}.cache_generations (name varchar(40) NOT NULL "
        "CONSTRAINT pk_cache_generations PRIMARY KEY, generation bigint NOT NULL)"
    )
    op.execute(f"INSERT INTO {SCHEMA}.cache_generations (name, generation) VALUES ('mailboxes', 0)")
    op.execute(
        f"""
        CREATE FUNCTION {SCHEMA}.bump_mailboxes_generation() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE {SCHEMA}.cache_generations SET generation = generation + 1 WHERE name = 'mailboxes';
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        f"CREATE TRIGGER mailboxes_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {SCHEMA}.mailboxes "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.bump_mailboxes_generation()"
    )


def downgrade() -> None:
    op.execute(f"DROP TRIGGER mailboxes_changed ON {SCHEMA}.mailboxes")
    op.execute(f"DROP FUNCTION {SCHEMA}.bump_mailboxes_generation()")
    op.execute(f"DROP TABLE {SCHEMA}.cache_generations")
