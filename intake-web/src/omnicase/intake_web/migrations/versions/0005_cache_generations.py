"""intake-web: a generation counter bumped on every change of ``forms`` (for the in-process form cache).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SCHEMA = "intake_web"


def upgrade() -> None:
    # One counter per cached table, bumped by a statement trigger on every change (whoever makes
    # it), so a process's cache can tell in one tiny read whether anything changed since it looked.
    op.execute(
        f"CREATE TABLE {SCHEMA}.cache_generations (name varchar(40) NOT NULL "
        "CONSTRAINT pk_cache_generations PRIMARY KEY, generation bigint NOT NULL)"
    )
    op.execute(f"INSERT INTO {SCHEMA}.cache_generations (name, generation) VALUES ('forms', 0)")
    op.execute(
        f"""
        CREATE FUNCTION {SCHEMA}.bump_forms_generation() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE {SCHEMA}.cache_generations SET generation = generation + 1 WHERE name = 'forms';
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        f"CREATE TRIGGER forms_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {SCHEMA}.forms "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.bump_forms_generation()"
    )


def downgrade() -> None:
    op.execute(f"DROP TRIGGER forms_changed ON {SCHEMA}.forms")
    op.execute(f"DROP FUNCTION {SCHEMA}.bump_forms_generation()")
    op.execute(f"DROP TABLE {SCHEMA}.cache_generations")
