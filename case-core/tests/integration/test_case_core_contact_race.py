"""Two transactions meeting the same new sender at once end up with one contact."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select

from omnicase.case_core.contacts.repository import ContactRepository
from omnicase.case_core.models import cases, contact_identities, contacts
from omnicase.case_core.testing import inbound_email
from omnicase.case_core.wiring import Services
from omnicase.kit.bus.batch import Received
from omnicase.kit.db import Database
from omnicase.kit.events import MessageReceived, Party

pytestmark = pytest.mark.asyncio


async def test_concurrent_first_messages_from_one_sender_create_one_contact(
    committing_db: Database, services: Services
) -> None:
    address = f"race-{uuid.uuid4().hex[:10]}@customer.example"
    entered = asyncio.Barrier(2)

    async def resolve(name: str) -> uuid.UUID:
        async with committing_db.unit_of_work() as session:
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
    async with committing_db.unit_of_work() as session:
        owners = (
            await session.scalars(select(contact_identities.c.contact_id).where(contact_identities.c.value == address))
        ).all()
        named = await session.scalar(select(func.count()).select_from(contacts).where(contacts.c.id == first))
    assert owners == [first]
    assert named == 1


async def test_two_batches_with_one_new_sender_at_once_file_both_cases_under_one_contact_and_leave_no_spare(
    committing_db: Database, services: Services
) -> None:
    address = f"race-{uuid.uuid4().hex[:10]}@customer.example"
    name = f"Racer {uuid.uuid4().hex[:8]}"
    mails = [inbound_email(address, subject=subject, name=name) for subject in ("First", "Second")]

    async def handle(message: MessageReceived) -> None:
        async with committing_db.unit_of_work() as session:
            await services.intake.handle(session, [Received(message.envelope(source="test", subject="t"), message)])

    # The first batch makes the sender's contact and holds it uncommitted; the second, having
    # read the sender as unknown too, makes its own, whose address waits for the first's commit.
    async with committing_db.unit_of_work() as first:
        await services.intake.handle(first, [Received(mails[0].envelope(source="test", subject="t"), mails[0])])
        second = asyncio.create_task(handle(mails[1]))
        await asyncio.sleep(1.0)
        assert not second.done(), "the second batch waits on the address the first one claimed"
    await asyncio.wait_for(second, timeout=20)

    async with committing_db.unit_of_work() as session:
        owners = (
            await session.scalars(select(contact_identities.c.contact_id).where(contact_identities.c.value == address))
        ).all()
        requesters = (
            await session.scalars(
                select(cases.c.requester_id).where(
                    cases.c.subject.in_(["First", "Second"]), cases.c.requester_id.in_(owners)
                )
            )
        ).all()
        named = await session.scalar(select(func.count()).select_from(contacts).where(contacts.c.name == name))
    assert len(owners) == 1
    assert sorted(requesters) == [owners[0], owners[0]], "both cases are the one contact's"
    assert named == 1, "the contact the second batch lost the address with is gone"
