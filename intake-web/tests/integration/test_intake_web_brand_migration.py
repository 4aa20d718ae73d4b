"""Migration 0014 on data: the brand strings of forms, channels and voice channels become slugs."""

from __future__ import annotations

import json
import uuid
from typing import Any

from omnicase.devtools.devstack.postgres import EmbeddedPostgres
from omnicase.devtools.testing.database import fresh_database, run_statements
from omnicase.intake_web.service import SPEC
from omnicase.ops.migrations import upgrade

_FORM = (
    "INSERT INTO intake_web.forms (id, name, enabled, definition, version, created_at, updated_at) "
    "VALUES (:id, 'Support', true, CAST(:json AS jsonb), 1, now(), now())"
)
_CHANNEL = (
    "INSERT INTO intake_web.channels (id, name, kind, enabled, config, version, created_at, updated_at) "
    "VALUES (:id, 'Chat', :kind, true, CAST(:json AS jsonb), 1, now(), now())"
)
_VOICE = (
    "INSERT INTO intake_web.voice_channels (id, name, enabled, config, version, created_at, updated_at) "
    "VALUES (:id, 'Line', true, CAST(:json AS jsonb), 1, now(), now())"
)
SEALED = "omnicase:v1:dev:sealed-token-left-as-it-was"


def test_brand_strings_become_the_slugs_case_cores_brands_have_and_nothing_else_changes(
    embedded_postgres: EmbeddedPostgres,
) -> None:
    # A database of its own, made afresh: the migration runs once, on data older than it.
    url = fresh_database(embedded_postgres, "omnicase_intake_web_brand_migration")
    upgrade(SPEC, url, "0013")
    # As case-core's 0012 made brands of its cases' strings: "Acme Inc." is the brand acme-inc.
    strings = ["Acme Inc.", "acme", "Globex  Corp ", None]
    expected = ["acme-inc", "acme", "globex-corp", None]
    forms, generic, widgets, voices = ([uuid.uuid4() for _ in strings] for _ in range(4))
    statements: list[tuple[str, dict[str, object]]] = []
    for n, brand in enumerate(strings):
        defaults = {"priority": "high", "tags": ["web"], **({"brand": brand} if brand else {})}
        form = {"name": "Support", "fields": [{"key": "email"}], "defaults": defaults}
        plain = {"settings": {"kind": "generic", "secrets": [SEALED]}, "defaults": defaults, "blocked_senders": []}
        widget = {"settings": {"kind": "widget", "brand": brand or "acme"}, "defaults": {}, "blocked_senders": []}
        settings = {"auth_token": SEALED, "brand": brand, "phone_numbers": ["+15005550006"]}
        voice = {"settings": settings, "defaults": defaults}
        statements += [
            (_FORM, {"id": forms[n], "json": json.dumps(form)}),
            (_CHANNEL, {"id": generic[n], "kind": "generic", "json": json.dumps(plain)}),
            (_CHANNEL, {"id": widgets[n], "kind": "widget", "json": json.dumps(widget)}),
            (_VOICE, {"id": voices[n], "json": json.dumps(voice)}),
        ]
    run_statements(url, statements)
    upgrade(SPEC, url)

    [form_rows, channel_rows, voice_rows] = run_statements(
        url,
        [
            ("SELECT id, definition FROM intake_web.forms", {}),
            ("SELECT id, config FROM intake_web.channels", {}),
            ("SELECT id, config FROM intake_web.voice_channels", {}),
        ],
    )
    form_of = {row[0]: row[1] for row in form_rows}
    config_of: dict[object, Any] = {row[0]: row[1] for row in [*channel_rows, *voice_rows]}
    for n, slug in enumerate(expected):
        defaults = {"priority": "high", "tags": ["web"], **({"brand": slug} if slug else {})}
        assert form_of[forms[n]] == {"name": "Support", "fields": [{"key": "email"}], "defaults": defaults}
        assert config_of[generic[n]] == {
            "settings": {"kind": "generic", "secrets": [SEALED]},
            "defaults": defaults,
            "blocked_senders": [],
        }
        assert config_of[widgets[n]]["settings"] == {"kind": "widget", "brand": slug or "acme"}
        assert config_of[voices[n]] == {
            "settings": {"auth_token": SEALED, "brand": slug, "phone_numbers": ["+15005550006"]},
            "defaults": defaults,
        }
