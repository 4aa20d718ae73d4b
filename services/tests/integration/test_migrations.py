"""Every service's migrations: own schema, own version table, reversible."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from omnicase.devtools.devstack.postgres import EmbeddedPostgres
from omnicase.kit.db import create_engine
from omnicase.kit.migrations import downgrade, upgrade
from omnicase.kit.service import discover_services


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
    assert len(specs) == 6

    for spec in specs:
        upgrade(spec, url)
        upgrade(spec, url)  # running again is a no-op
    tables = asyncio.run(_schema_tables(url))
    assert "public" not in tables, "nothing lands outside the services' schemas"
    for spec in specs:
        assert "alembic_version" in tables[spec.schema], f"{spec.name} keeps its version table in its schema"
    assert {"outbox", "inbox"} <= tables["case_core"]

    for spec in specs:
        downgrade(spec, url)
    after_downgrade = asyncio.run(_schema_tables(url))
    assert all(names <= {"alembic_version"} for names in after_downgrade.values())
    for spec in specs:
        upgrade(spec, url)
    assert asyncio.run(_schema_tables(url)) == tables
