"""case-core: brands, and every case's brand id (issue 22).

Cases named their brand by a free string before; each distinct string becomes a brand here
(its name the string as it was, its slug the string made a slug), and its cases carry that
brand's id. The strings themselves stay on the cases as they were: nothing is lost.

Revision ID: 0012
Revises: 0011

Frozen DDL (not generated from the live models at run time), so this revision
means the same thing forever.
"""

import sqlalchemy as sa
from alembic import op

from omnicase.kit.brands import slug_of
from omnicase.kit.ids import uuid7
from omnicase.ops.migrations import watch_config_tables

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

S = "case_core"

UPGRADE = [
    """
CREATE TABLE case_core.brands (
    id UUID NOT NULL,
    name VARCHAR(200) NOT NULL,
    slug VARCHAR(100) NOT NULL,
    default_locale VARCHAR(20) NOT NULL,
    supported_locales VARCHAR(20)[] NOT NULL,
    logo_url VARCHAR(2000),
    colors JSONB,
    email_signature TEXT DEFAULT '' NOT NULL,
    time_zone VARCHAR(64) NOT NULL,
    business_hours_id UUID,
    sla_policy_id UUID,
    csat JSONB,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_brands PRIMARY KEY (id)
)""",
    "CREATE UNIQUE INDEX uq_brands_slug ON case_core.brands (slug)",
    # Nullable without a default: adding it rewrites no row.
    "ALTER TABLE case_core.cases ADD COLUMN brand_id UUID",
    "ALTER TABLE case_core.cases ADD CONSTRAINT fk_cases_brand_id_brands FOREIGN KEY(brand_id) "
    "REFERENCES case_core.brands (id)",
    "CREATE INDEX ix_cases_brand_id ON case_core.cases (brand_id)",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)
    # Read per inbound message through a VersionedCache: a write moves config_version.
    watch_config_tables(S, ("brands",))
    connection = op.get_bind()
    names = [
        row[0]
        for row in connection.execute(
            sa.text("SELECT DISTINCT brand FROM case_core.cases WHERE brand IS NOT NULL ORDER BY brand")
        )
    ]
    taken: set[str] = set()
    for name in names:
        slug = base = slug_of(name)
        suffix = 1
        while slug in taken:
            suffix += 1
            slug = f"{base[: 100 - len(str(suffix)) - 1]}-{suffix}"
        taken.add(slug)
        brand_id = uuid7()
        connection.execute(
            sa.text(
                "INSERT INTO case_core.brands (id, name, slug, default_locale, supported_locales, time_zone, "
                "created_at, updated_at) VALUES (:id, :name, :slug, 'en', '{en}', 'UTC', now(), now())"
            ),
            {"id": brand_id, "name": name[:200], "slug": slug},
        )
        connection.execute(
            sa.text("UPDATE case_core.cases SET brand_id = :id WHERE brand = :name"), {"id": brand_id, "name": name}
        )


def downgrade() -> None:
    op.execute("ALTER TABLE case_core.cases DROP COLUMN brand_id")
    op.execute("DROP TABLE case_core.brands")
