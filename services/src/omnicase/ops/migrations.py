"""Alembic, once per service: each service migrates only its own schema and keeps
its own version table there (``<schema>.alembic_version``).

A service's ``migrations/env.py`` is two lines: import its metadata, call
:func:`run_env`. ``omnicase migrate`` calls :func:`upgrade` for every service. The steps
its migrations share (the config-version triggers of :mod:`omnicase.kit.config_version`,
the blob store's schema) are here too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from omnicase.kit.blobs import BLOB_SCHEMA, blobs
from omnicase.kit.db import service_metadata
from omnicase.kit.inbox import inbox_table
from omnicase.kit.outbox import outbox_table
from omnicase.kit.service import ServiceSpec
from omnicase.kit.settings import normalize_database_url


def alembic_config(spec: ServiceSpec, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(spec.migrations_dir))
    config.set_main_option("path_separator", "os")
    config.attributes["database_url"] = normalize_database_url(database_url)
    config.attributes["schema"] = spec.schema
    return config


def upgrade(spec: ServiceSpec, database_url: str, revision: str = "head") -> None:
    """Bring one service's schema to ``revision`` (synchronous; run it off the event loop)."""
    command.upgrade(alembic_config(spec, database_url), revision)


def downgrade(spec: ServiceSpec, database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(spec, database_url), revision)


def _configure_and_run(connection: Connection, metadata: MetaData, schema: str) -> None:
    connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    # The suite's blob store (PostgreSQL backend) is there before any service's migration,
    # so one moving its old files in finds it.
    create_blob_schema(connection)
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table="alembic_version",
        version_table_schema=schema,
        include_schemas=True,
        include_name=lambda name, type_, _parent: type_ != "schema" or name == schema,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online(metadata: MetaData, url: str, schema: str) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as connection:
            # One migrator per schema at a time, even with several pods starting.
            await connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:s))"), {"s": schema})
            await connection.run_sync(_configure_and_run, metadata, schema)
    finally:
        await engine.dispose()


def run_env(metadata: MetaData) -> None:
    """Body of every service's ``env.py``."""
    config = context.config
    url = config.attributes["database_url"]
    schema = config.attributes["schema"]
    asyncio.run(_run_online(metadata, url, schema))


def create_kit_tables(connection: Any, schema: str) -> None:
    """Create the kit's outbox and inbox tables (version 1) in ``schema``; for initial migrations."""
    metadata = service_metadata(schema)
    outbox_table(metadata)
    inbox_table(metadata)
    metadata.create_all(connection)


def drop_kit_tables(connection: Any, schema: str) -> None:
    metadata = service_metadata(schema)
    outbox_table(metadata)
    inbox_table(metadata)
    metadata.drop_all(connection)


def create_blob_schema(connection: Connection) -> None:
    """The store's schema and table (idempotent; one migrator at a time creates them)."""
    connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": BLOB_SCHEMA})
    connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{BLOB_SCHEMA}"'))
    blobs.create(connection, checkfirst=True)


def install_config_version(schema: str, watched: Sequence[str]) -> None:
    """In a migration: create ``<schema>.config_version`` and the triggers moving it on writes to ``watched``."""
    op.execute(f"CREATE SEQUENCE IF NOT EXISTS {schema}.config_version_seq")
    op.execute(
        f"CREATE TABLE IF NOT EXISTS {schema}.config_version "
        "(id SMALLINT CONSTRAINT pk_config_version PRIMARY KEY, version BIGINT NOT NULL)"
    )
    op.execute(
        f"INSERT INTO {schema}.config_version (id, version) VALUES (1, nextval('{schema}.config_version_seq')) "
        "ON CONFLICT (id) DO NOTHING"
    )
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION {schema}.bump_config_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE {schema}.config_version SET version = nextval('{schema}.config_version_seq') WHERE id = 1;
            RETURN NULL;
        END
        $$
        """
    )
    watch_config_tables(schema, watched)


def watch_config_tables(schema: str, watched: Sequence[str]) -> None:
    """In a later migration: a new configuration table moves the version too."""
    for table in watched:
        op.execute(
            f"CREATE OR REPLACE TRIGGER bump_config_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {schema}.{table} FOR EACH STATEMENT EXECUTE FUNCTION {schema}.bump_config_version()"
        )


def drop_config_version(schema: str, watched: Sequence[str]) -> None:
    """The downgrade of :func:`install_config_version`."""
    for table in watched:
        op.execute(f"DROP TRIGGER IF EXISTS bump_config_version ON {schema}.{table}")
    op.execute(f"DROP FUNCTION IF EXISTS {schema}.bump_config_version()")
    op.execute(f"DROP TABLE IF EXISTS {schema}.config_version")
    op.execute(f"DROP SEQUENCE IF EXISTS {schema}.config_version_seq")
