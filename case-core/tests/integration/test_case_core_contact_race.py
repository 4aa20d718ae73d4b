"""Two transactions meeting the same new sender at once end up with one contact."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from omnicase.case_core.contacts.repository import ContactRepository
from omnicase.case_core.models import contact_identities, contacts
from omnicase.case_core.wiring import Services
from omnicase.kit.db import Database, create_engine
from omnicase.kit.events import Party

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def committing(database_url: str) -> AsyncIterator[Database]:
    """Real commits and separate connections (the rolled-back ``db`` cannot race itself)."""
    database = Database(create_engine(database_url, pool_size=4))
    try:
        yield database
    finally:
        await database.dispose()


async def test_concurrent_first_messages_from_one_sender_create_one_contact(
    committing: Database, services: Services
) -> None:
    address = f"race-{uuid.uuid4().hex[:10]}@customer.example"
    entered = asyncio.Barrier(2)

    async def resolve(name: str) -> uuid.UUID:
        async with committing.unit_of_work() as session:
            # Both look before either has written: each believes the sender is new.
            found = await ContactRepository(session).holders([("email", address)])
            assert found == {}
            await entered.wait()
            contact = await services.contacts.resolve(session, Party(email=address.upper(), name=name), "email")
            assert contact is not None
            contact_id: uuid.UUID = contact.id
            return contact_id

    first, second = await asyncio.gather(resolve("Ada"), resolve("Ada L."))
    assert first == second
    async with committing.unit_of_work() as session:
        owners = (
            await session.scalars(select(contact_identities.c.contact_id).where(contact_identities.c.value == address))
        ).all()
        named = await session.scalar(select(func.count()).select_from(contacts).where(contacts.c.id == first))
    assert owners == [first]
    assert named == 1
