"""Alembic, once per service: each service migrates only its own schema and keeps
its own version table there (``<schema>.alembic_version``).

A service's ``migrations/env.py`` is two lines: import its metadata, call
:func:`run_env`. ``omnicase migrate`` calls :func:`upgrade` for every service.
"""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from omnicase.kit.blobs import create_blob_schema
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
