"""knowledge: synonym sets per locale, applied to queries (search/synonyms.py), seeded with a general
support vocabulary (search/vocabulary.py), and the configuration version every write to them moves
(each process's synonym cache reloads on it).

Revision ID: 0011
Revises: 0010

A fresh install gets the vocabulary as search/vocabulary.py holds it when it migrates; one already
migrated keeps what its admins made of it (a later change of the seed would be a migration of its own).
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

from omnicase.kit.ids import uuid7
from omnicase.knowledge.search.vocabulary import SEED
from omnicase.ops.migrations import drop_config_version, install_config_version

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

S = "knowledge"
SEEDED_BY = "omnicase"


def upgrade() -> None:
    table = op.create_table(
        "synonyms",
        sa.Column("id", sa.Uuid),
        sa.Column("locale", sa.String(35), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("terms", ARRAY(sa.String(100)), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_synonyms"),
        schema=S,
    )
    op.create_index("ix_synonyms_locale", "synonyms", ["locale", "id"], schema=S)
    install_config_version(S, ("synonyms",))
    now = datetime.now(UTC)
    op.bulk_insert(
        table,
        [
            {
                "id": uuid7(),
                "locale": locale,
                "language": locale,
                "terms": terms,
                "created_at": now,
                "updated_at": now,
                "updated_by": SEEDED_BY,
            }
            for locale, sets in SEED.items()
            for terms in sets
        ],
    )


def downgrade() -> None:
    drop_config_version(S, ("synonyms",))
    op.drop_table("synonyms", schema=S)
