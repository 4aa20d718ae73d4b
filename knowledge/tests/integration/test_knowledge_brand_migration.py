"""Migration 0010 on data: the brand strings of sections, articles and translations become slugs."""

from __future__ import annotations

import uuid

from omnicase.devtools.devstack.postgres import EmbeddedPostgres
from omnicase.devtools.testing.database import fresh_database, run_statements
from omnicase.knowledge.service import SPEC
from omnicase.ops.migrations import upgrade

_SECTION = (
    "INSERT INTO knowledge.sections (id, brand, name, description, position, created_at, updated_at) "
    "VALUES (:id, :brand, 'Orders', '', :position, now(), now())"
)
_ARTICLE = (
    "INSERT INTO knowledge.articles (id, brand, section_id, created_by, created_at, updated_at) "
    "VALUES (:id, :brand, :section_id, 'user:ada', now(), now())"
)
_TRANSLATION = (
    "INSERT INTO knowledge.translations (article_id, locale, brand, title, body, body_html, status, version, "
    "created_at, updated_at, updated_by, language, body_text, search_vector) VALUES (:article_id, 'en', :brand, "
    "'Where is my order?', 'Track it.', '<p>Track it.</p>', 'published', 1, now(), now(), 'user:ada', 'en', "
    "'Track it.', to_tsvector('simple', 'Track it.'))"
)


def test_brand_strings_become_the_slugs_case_cores_brands_have_and_nothing_else_changes(
    embedded_postgres: EmbeddedPostgres,
) -> None:
    # A database of its own, made afresh: the migration runs once, on data older than it.
    url = fresh_database(embedded_postgres, "omnicase_kb_brand_migration")
    upgrade(SPEC, url, "0009")
    # As case-core's 0012 made brands of its cases' strings: "Acme Inc." is the brand acme-inc.
    strings = ["Acme Inc.", "acme", "Globex  Corp ", None]
    sections = [uuid.uuid4() for _ in strings]
    articles = [uuid.uuid4() for _ in strings]
    statements: list[tuple[str, dict[str, object]]] = []
    for n, brand in enumerate(strings):
        statements += [
            (_SECTION, {"id": sections[n], "brand": brand, "position": n}),
            (_ARTICLE, {"id": articles[n], "brand": brand, "section_id": sections[n]}),
            (_TRANSLATION, {"article_id": articles[n], "brand": brand}),
        ]
    run_statements(url, statements)
    upgrade(SPEC, url)

    [section_rows, article_rows, translation_rows] = run_statements(
        url,
        [
            ("SELECT id, brand, name, position FROM knowledge.sections", {}),
            ("SELECT id, brand, section_id FROM knowledge.articles", {}),
            ("SELECT article_id, brand, title, status FROM knowledge.translations", {}),
        ],
    )
    expected = ["acme-inc", "acme", "globex-corp", None]
    by_section = {row[0]: row[1:] for row in section_rows}
    by_article = {row[0]: row[1:] for row in article_rows}
    by_translation = {row[0]: row[1:] for row in translation_rows}
    for n, slug in enumerate(expected):
        assert by_section[sections[n]] == (slug, "Orders", n)
        assert by_article[articles[n]] == (slug, sections[n])
        assert by_translation[articles[n]] == (slug, "Where is my order?", "published")
