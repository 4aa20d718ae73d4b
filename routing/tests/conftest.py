from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.db import Database, create_engine
from omnicase.routing.testing import Seeder, truncate_routing


@pytest_asyncio.fixture
async def session(db: Database) -> AsyncIterator[AsyncSession]:
    """One routing transaction, rolled back after the test."""
    async with db.unit_of_work() as session:
        yield session


@pytest_asyncio.fixture
async def seed(session: AsyncSession) -> Seeder:
    return Seeder(session)


@pytest_asyncio.fixture
async def clean_routing(database_url: str) -> AsyncIterator[None]:
    """For tests that really commit (a running app, concurrent replicas): empty routing's
    tables afterwards so no rule or agent leaks into the next test."""
    yield
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as connection:
            await truncate_routing(AsyncSession(bind=connection))
    finally:
        await engine.dispose()
