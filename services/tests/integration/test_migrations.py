"""Every service's migrations: own schema, own version table, reversible."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from sqlalchemy import text

from omnicase.devtools.devstack.postgres import EmbeddedPostgres
from omnicase.devtools.testing.stack import SUITE_SERVICES
from omnicase.kit.blobs import BLOB_SCHEMA
from omnicase.kit.db import create_engine
from omnicase.kit.service import discover_services
from omnicase.ops.migrations import downgrade, upgrade


async def _schema_tables(url: str) -> dict[str, set[str]]:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT table_schema, table_name FROM information_schema.tables "
                    "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
                )
            )
            tables: dict[str, set[str]] = {}
            for schema, table in rows:
                tables.setdefault(schema, set()).add(table)
            return tables
    finally:
        await engine.dispose()


@pytest.mark.slow
def test_each_service_migrates_only_its_own_schema_and_can_go_back(embedded_postgres: EmbeddedPostgres) -> None:
    embedded_postgres.ensure_database("omnicase_migrations")
    url = embedded_postgres.url("omnicase_migrations")
    specs = [spec for spec in discover_services() if spec.has_migrations()]
    assert {spec.name for spec in specs} == SUITE_SERVICES

    for spec in specs:
        upgrade(spec, url)
        upgrade(spec, url)  # running again is a no-op
    tables = asyncio.run(_schema_tables(url))
    assert "public" not in tables, "nothing lands outside the services' schemas"
    assert tables[BLOB_SCHEMA] == {"blobs"}, "the suite's blob store, there before any service's migration"
    for spec in specs:
        assert "alembic_version" in tables[spec.schema], f"{spec.name} keeps its version table in its schema"
    assert {"outbox", "inbox"} <= tables["case_core"]

    for spec in specs:
        downgrade(spec, url)
    after_downgrade = asyncio.run(_schema_tables(url))
    # The blob store belongs to no service: its files stay when services go back.
    assert after_downgrade.pop(BLOB_SCHEMA) == {"blobs"}
    assert all(names <= {"alembic_version"} for names in after_downgrade.values())
    for spec in specs:
        upgrade(spec, url)
    assert asyncio.run(_schema_tables(url)) == tables


# Where each service kept its files before the suite had one store: (revision before the move, column).
OWN_BLOB_TABLES = {"case-core": ("0007", "data"), "intake-email": ("0005", "content"), "intake-web": ("0006", "data")}


async def _execute(url: str, statement: str, **values: object) -> list[tuple[object, ...]]:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(text(statement), values)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        await engine.dispose()


@pytest.mark.parametrize("service", sorted(OWN_BLOB_TABLES))
def test_the_files_a_service_kept_itself_move_into_the_suites_blob_store(
    embedded_postgres: EmbeddedPostgres, service: str
) -> None:
    database = f"omnicase_blob_move_{service.replace('-', '_')}"
    embedded_postgres.ensure_database(database)
    url = embedded_postgres.url(database)
    spec = next(spec for spec in discover_services() if spec.name == service)
    before, column = OWN_BLOB_TABLES[service]
    upgrade(spec, url, before)
    content = f"a file {service} received before the move".encode()
    digest = hashlib.sha256(content).hexdigest()
    asyncio.run(
        _execute(
            url,
            f"INSERT INTO {spec.schema}.blobs (sha256, size, {column}, created_at) VALUES (:d, :s, :c, now())",
            d=digest,
            s=len(content),
            c=content,
        )
    )
    upgrade(spec, url)
    moved = asyncio.run(_execute(url, f"SELECT content FROM {BLOB_SCHEMA}.blobs WHERE sha256 = :d", d=digest))
    assert moved == [(content,)]
    assert "blobs" not in asyncio.run(_schema_tables(url))[spec.schema]
