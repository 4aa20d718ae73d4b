"""Migration 0008 on data: a mailbox's brand becomes the slug case-core's brands have."""

from __future__ import annotations

import uuid

from omnicase.devtools.devstack.postgres import EmbeddedPostgres
from omnicase.devtools.testing.database import fresh_database, run_statements
from omnicase.intake_email.service import SPEC
from omnicase.ops.migrations import upgrade

_MAILBOX = (
    "INSERT INTO intake_email.mailboxes (id, address, display_name, brand, created_at, updated_at) "
    "VALUES (:id, :address, 'Support', :brand, now(), now())"
)


def test_mailbox_brands_become_the_slugs_case_cores_brands_have_and_nothing_else_changes(
    embedded_postgres: EmbeddedPostgres,
) -> None:
    # A database of its own, made afresh: the migration runs once, on data older than it.
    url = fresh_database(embedded_postgres, "omnicase_intake_email_brand_migration")
    upgrade(SPEC, url, "0007")
    # As case-core's 0012 made brands of its cases' strings: "acme-" is the brand acme.
    strings = ["acme-", "acme", "globex_corp_", None]
    ids = [uuid.uuid4() for _ in strings]
    run_statements(
        url,
        [
            (_MAILBOX, {"id": id_, "address": f"help-{n}@acme.test", "brand": brand})
            for n, (id_, brand) in enumerate(zip(ids, strings, strict=True))
        ],
    )
    upgrade(SPEC, url)

    [rows] = run_statements(url, [("SELECT id, address, display_name, brand FROM intake_email.mailboxes", {})])
    by_id = {row[0]: row[1:] for row in rows}
    for n, slug in enumerate(["acme", "acme", "globex_corp", None]):
        assert by_id[ids[n]] == (f"help-{n}@acme.test", "Support", slug)
