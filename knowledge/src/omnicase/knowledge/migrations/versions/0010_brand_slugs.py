"""knowledge: sections and articles name their brand by slug (issue 22).

Before brands existed a section's brand was any string; now it is the slug of one of case-core's
brands (``/api/v1/brands``), checked when a section or article is created. case-core's 0012 made
a brand of every brand string its cases carried, its slug the string made a slug; this revision
rewrites each brand string of sections, articles and their translations that is no slug the same
way (``Acme Inc.`` becomes ``acme-inc``), so they name that brand. A string that is a slug already
stays as it is. Nothing else changes; rows without a brand keep none.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

from omnicase.kit.brands import SLUG_PATTERN, slug_of

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

S = "knowledge"
TABLES = ("sections", "articles", "translations")


def upgrade() -> None:
    connection = op.get_bind()
    for table in TABLES:
        strings = [
            row[0]
            for row in connection.execute(
                sa.text(f"SELECT DISTINCT brand FROM {S}.{table} WHERE brand IS NOT NULL AND brand !~ :slug"),
                {"slug": SLUG_PATTERN},
            )
        ]
        for string in strings:
            connection.execute(
                sa.text(f"UPDATE {S}.{table} SET brand = :slug WHERE brand = :string"),
                {"slug": slug_of(string), "string": string},
            )


def downgrade() -> None:
    # The strings before were free text: which a slug came from is not kept, so there is nothing to undo.
    pass
