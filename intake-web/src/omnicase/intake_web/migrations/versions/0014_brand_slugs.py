"""intake-web: forms and channels name their brand by slug (issue 22).

Before brands existed a form's or channel's case defaults named a brand by any string, and so did
a voice channel's own ``brand``; now each is the slug of one of case-core's brands
(``/api/v1/brands``), checked when a route is written. case-core's 0012 made a brand of every brand
string its cases carried, its slug the string made a slug (the kit's ``slug_of``); this revision
rewrites each brand string of forms (``definition.defaults.brand``), messaging and widget channels
(``config.defaults.brand``, a widget's ``config.settings.brand``) and voice channels
(``config.settings.brand``, ``config.defaults.brand``) the same way, so ``Acme Inc.`` names the
brand ``acme-inc``. A string ``slug_of`` keeps is left as it is; nothing else changes (the JSON is
rewritten at the one path, sealed secrets untouched); a route without a brand keeps none.

Revision ID: 0014
Revises: 0013
"""

import json

import sqlalchemy as sa
from alembic import op

from omnicase.kit.brands import slug_of

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# Each table's JSON column and the paths in it that name a brand.
PATHS = (
    ("forms", "definition", ("defaults", "brand")),
    ("channels", "config", ("defaults", "brand")),
    ("channels", "config", ("settings", "brand")),
    ("voice_channels", "config", ("defaults", "brand")),
    ("voice_channels", "config", ("settings", "brand")),
)


def upgrade() -> None:
    connection = op.get_bind()
    for table, column, path in PATHS:
        rows = connection.execute(
            sa.text(
                f"SELECT id, {column} #>> :path FROM intake_web.{table} "
                f"WHERE jsonb_typeof({column} #> :path) = 'string'"
            ),
            {"path": list(path)},
        ).all()
        for row_id, string in rows:
            slug = slug_of(string)
            if slug != string:
                connection.execute(
                    sa.text(
                        f"UPDATE intake_web.{table} SET {column} = jsonb_set({column}, :path, CAST(:slug AS jsonb)) "
                        "WHERE id = :id"
                    ),
                    {"path": list(path), "slug": json.dumps(slug), "id": row_id},
                )


def downgrade() -> None:
    # The strings before were free text: which a slug came from is not kept, so there is nothing to undo.
    pass
