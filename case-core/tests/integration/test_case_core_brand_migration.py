"""Migration 0012 on data: every brand string the cases carried becomes a brand, its cases its id."""

from __future__ import annotations

import uuid

from omnicase.case_core.service import SPEC
from omnicase.devtools.devstack.postgres import EmbeddedPostgres
from omnicase.devtools.testing.database import fresh_database, run_statements
from omnicase.ops.migrations import upgrade

_CASE = (
    "INSERT INTO case_core.cases (id, ref_token, subject, status, priority, channel, brand, created_at, updated_at) "
    "VALUES (:id, :token, 'old case', 'open', 'normal', 'email', :brand, now(), now())"
)


def test_the_brand_strings_of_existing_cases_become_brands_and_nothing_is_lost(
    embedded_postgres: EmbeddedPostgres,
) -> None:
    # A database of its own, made afresh: the migration runs once, on data older than it.
    url = fresh_database(embedded_postgres, "omnicase_brand_migration")
    upgrade(SPEC, url, "0011")
    strings = ["acme", "acme", "Acme Inc.", "acme-inc", None]
    ids = [uuid.uuid4() for _ in strings]
    run_statements(
        url,
        [
            (_CASE, {"id": id_, "token": f"t{n}", "brand": brand})
            for n, (id_, brand) in enumerate(zip(ids, strings, strict=True))
        ],
    )
    upgrade(SPEC, url)

    [brands, cases] = run_statements(
        url,
        [
            ("SELECT name, slug, default_locale, supported_locales, time_zone, id FROM case_core.brands", {}),
            ("SELECT id, brand, brand_id FROM case_core.cases", {}),
        ],
    )
    by_name = {row[0]: row for row in brands}
    assert {name: row[1] for name, row in by_name.items()} == {
        "Acme Inc.": "acme-inc",
        "acme": "acme",
        # Taken by "Acme Inc." (sorted first): the second gets a suffix.
        "acme-inc": "acme-inc-2",
    }
    assert [row[2:5] for row in brands] == [("en", ["en"], "UTC")] * 3
    by_case = {row[0]: row[1:] for row in cases}
    for case_id, brand in zip(ids, strings, strict=True):
        kept, brand_id = by_case[case_id]
        assert kept == brand, "the string stays on the case"
        assert brand_id == (by_name[brand][5] if brand else None)
