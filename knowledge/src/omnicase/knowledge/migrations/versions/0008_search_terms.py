"""knowledge: how many translations hold each search term (for ranking and candidate choice),
and the terms' trigrams (for typos), in place of trigram indexes over every title and body; the
tsvector index with a short pending list; each translation's brand beside it (an article's brand never
changes), so a search is scoped without joining every candidate to its article.

Revision ID: 0008
Revises: 0007

``search_terms`` counts, per lexeme of the translations' tsvectors, the translations that are
not archived and hold it. A trigger keeps it, so no path that writes a translation (insert,
update, archive, an article's cascade delete) can forget it: it is the one piece of search
logic the database runs itself. Its rows are updated in lexeme order, so two writers lock the
shared rows in the same order. Search reads it to weigh rare terms above common ones and to
find the terms close to a word nothing holds (search/repository.py).
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

S = "knowledge"

COUNT = f"""
CREATE FUNCTION {S}.count_search_terms() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status <> 'archived' THEN
        UPDATE {S}.search_terms AS t SET translations = t.translations - 1
        FROM (SELECT lexeme FROM unnest(tsvector_to_array(OLD.search_vector)) AS lexeme
              ORDER BY lexeme) AS gone
        WHERE t.lexeme = gone.lexeme;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status <> 'archived' THEN
        INSERT INTO {S}.search_terms (lexeme, translations)
        SELECT lexeme, 1 FROM unnest(tsvector_to_array(NEW.search_vector)) AS lexeme ORDER BY lexeme
        ON CONFLICT (lexeme) DO UPDATE SET translations = {S}.search_terms.translations + 1;
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.add_column("translations", sa.Column("brand", sa.String(100), nullable=True), schema=S)
    op.execute(f"UPDATE {S}.translations AS t SET brand = a.brand FROM {S}.articles AS a WHERE a.id = t.article_id")
    op.create_table(
        "search_terms",
        sa.Column("lexeme", sa.Text, nullable=False),
        sa.Column("translations", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("lexeme", name="pk_search_terms"),
        schema=S,
    )
    op.create_index(
        "ix_search_terms_trigrams",
        "search_terms",
        ["lexeme"],
        postgresql_using="gin",
        postgresql_ops={"lexeme": "gin_trgm_ops"},
        schema=S,
    )
    op.execute(
        f"INSERT INTO {S}.search_terms (lexeme, translations) "
        f"SELECT lexeme, count(*) FROM {S}.translations, unnest(tsvector_to_array(search_vector)) AS lexeme "
        "WHERE status <> 'archived' GROUP BY lexeme"
    )
    op.execute(COUNT)
    op.execute(
        f"CREATE TRIGGER count_search_terms_written AFTER INSERT OR DELETE ON {S}.translations "
        f"FOR EACH ROW EXECUTE FUNCTION {S}.count_search_terms()"
    )
    op.execute(
        f"CREATE TRIGGER count_search_terms_changed AFTER UPDATE OF search_vector, status ON {S}.translations "
        "FOR EACH ROW WHEN (OLD.search_vector IS DISTINCT FROM NEW.search_vector OR OLD.status IS DISTINCT FROM "
        f"NEW.status) EXECUTE FUNCTION {S}.count_search_terms()"
    )
    for name in ("ix_translations_body_trigrams", "ix_translations_title_trigrams"):
        op.drop_index(name, table_name="translations", schema=S)
    # The pending list of new terms every search reads through, kept to 256 kB (32 pages) instead of
    # the default 4 MB (512): writes still batch their terms into the index (without a pending list
    # at all, writing an article is about half as fast), searches never read much of it.
    op.execute(f"ALTER INDEX {S}.ix_translations_search_vector SET (gin_pending_list_limit = 256)")
    op.execute(f"SELECT gin_clean_pending_list('{S}.ix_translations_search_vector'::regclass)")


def downgrade() -> None:
    op.execute(f"ALTER INDEX {S}.ix_translations_search_vector RESET (gin_pending_list_limit)")
    for name, column in (("ix_translations_title_trigrams", "title"), ("ix_translations_body_trigrams", "body_text")):
        op.create_index(
            name, "translations", [column], postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"}, schema=S
        )
    op.execute(f"DROP TRIGGER count_search_terms_changed ON {S}.translations")
    op.execute(f"DROP TRIGGER count_search_terms_written ON {S}.translations")
    op.execute(f"DROP FUNCTION {S}.count_search_terms()")
    op.drop_table("search_terms", schema=S)
    op.drop_column("translations", "brand", schema=S)
