"""IMAP polling against a real Dovecot: nothing fetched twice, nothing skipped, across restarts."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from omnicase.devtools.testing.plugin import eventually
from omnicase.intake_email.models import imap_cursors, raw_messages

pytestmark = pytest.mark.asyncio


def mail(subject: str, *, sender: str = "ada@example.org", message_id: str | None = None) -> bytes:
    mid = message_id or f"{uuid.uuid4().hex}@example.org"
    return (
        f"Return-Path: <bounces+{sender}>\r\nFrom: Ada <{sender}>\r\nTo: support@acme.test\r\n"
        f"Subject: {subject}\r\nMessage-ID: <{mid}>\r\n\r\nBody of {subject}\r\n"
    ).encode()


def append(server: Any, folder: str, *messages: bytes) -> None:
    client = server.client()
    try:
        client.create(folder)  # fails harmlessly when it exists
        for message in messages:
            status, _ = client.append(folder, None, None, message)
            assert status == "OK"
    finally:
        client.logout()


def folder_state(server: Any, folder: str) -> tuple[int, int]:
    """(messages in the folder, of which \\Seen)."""
    client = server.client()
    try:
        client.select(folder)
        total = len(client.uid("SEARCH", "ALL")[1][0].split())
        seen = len(client.uid("SEARCH", "SEEN")[1][0].split())
        return total, seen
    finally:
        client.logout()


def recreate(server: Any, folder: str) -> None:
    client = server.client()
    try:
        client.delete(folder)
        client.create(folder)
    finally:
        client.logout()


async def subjects(service: Any, mailbox_id: str) -> list[str]:
    async with service.app.state.runtime.database.unit_of_work() as session:
        rows = await session.scalars(
            select(raw_messages.c.subject)
            .where(raw_messages.c.mailbox_id == uuid.UUID(mailbox_id), raw_messages.c.route == "imap")
            .order_by(raw_messages.c.received_at)
        )
        return list(rows)


async def cursor_of(service: Any, account: str) -> tuple[int | None, int]:
    async with service.app.state.runtime.database.unit_of_work() as session:
        row = (await session.execute(select(imap_cursors).where(imap_cursors.c.account == account))).one()
    return row.uidvalidity, row.last_uid


async def intake_id(service: Any, mailbox_id: str, subject: str) -> uuid.UUID:
    async with service.app.state.runtime.database.unit_of_work() as session:
        found = await session.scalar(
            select(raw_messages.c.id).where(
                raw_messages.c.mailbox_id == uuid.UUID(mailbox_id), raw_messages.c.subject == subject
            )
        )
    assert found is not None
    return uuid.UUID(str(found))


async def test_polling_takes_each_message_once_marks_or_moves_it_and_resumes_after_a_restart(
    start_service: Any, imap_server: Any
) -> None:
    address = f"support-{uuid.uuid4().hex[:10]}@acme.test"
    folder = f"Billing{uuid.uuid4().hex[:6]}"
    billing_two = mail("billing two")
    await asyncio.to_thread(append, imap_server, "INBOX", mail("first"), mail("second"))
    await asyncio.to_thread(append, imap_server, folder, mail("billing one"))
    await asyncio.to_thread(append, imap_server, "Processed")
    common = {
        "mailbox": address,
        "host": "localhost",
        "username": imap_server.username,
        "password": imap_server.password,
        "ca_file": str(imap_server.ca_file),
    }
    settings = {
        "imap_accounts": [
            # STARTTLS on the IMAP port; processed mail moves to a folder.
            {**common, "port": imap_server.imap_port, "security": "starttls", "processed_folder": "Processed"},
            # IMAPS; processed mail is flagged \Seen and stays where it is.
            {**common, "port": imap_server.imaps_port, "security": "ssl", "folder": folder},
        ],
        "imap_poll_interval_seconds": 0.2,
        "imap_timeout_seconds": 5,
    }
    service = await start_service(**settings)
    # Polls before the mailbox exists fail and are retried; nothing is passed over meanwhile.
    await asyncio.sleep(0.5)
    mailbox = await service.mailbox(address=address)

    async def taken(instance: Any, count: int) -> bool:
        return len(await subjects(instance, mailbox["id"])) >= count

    await eventually(lambda: taken(service, 3), message="three messages taken in over IMAP")
    await asyncio.sleep(0.6)  # a few more polls: nothing is fetched again
    assert sorted(await subjects(service, mailbox["id"])) == ["billing one", "first", "second"]
    assert await asyncio.to_thread(folder_state, imap_server, "INBOX") == (0, 0)
    assert (await asyncio.to_thread(folder_state, imap_server, "Processed"))[0] == 2
    assert await asyncio.to_thread(folder_state, imap_server, folder) == (1, 1)
    first = await service.client.get(f"/api/v1/mailboxes/-/messages/{await intake_id(service, mailbox['id'], 'first')}")
    assert first.json()["route"] == "imap"
    assert first.json()["envelope_from"] == "bounces+ada@example.org"
    billing_account = f"{imap_server.username}@localhost:{imap_server.imaps_port}/{folder}"
    uidvalidity, last_uid = await cursor_of(service, billing_account)
    assert last_uid == 1

    # Restart: a new process resumes from the stored cursor and takes only the new mail.
    await service.stop()
    await asyncio.to_thread(append, imap_server, folder, billing_two)
    restarted = await start_service(**settings)
    await eventually(lambda: taken(restarted, 4), message="new mail after the restart")
    await asyncio.sleep(0.6)
    assert sorted(await subjects(restarted, mailbox["id"])) == ["billing one", "billing two", "first", "second"]
    assert await cursor_of(restarted, billing_account) == (uidvalidity, 2)

    # The server renumbers the folder (new UIDVALIDITY): it is rescanned; mail seen before is recognised.
    await asyncio.to_thread(recreate, imap_server, folder)
    await asyncio.to_thread(append, imap_server, folder, billing_two, mail("billing three"))

    async def rescanned() -> bool:
        validity, last = await cursor_of(restarted, billing_account)
        return validity != uidvalidity and last == 2

    await eventually(rescanned, message="rescan after UIDVALIDITY changed")
    assert sorted(await subjects(restarted, mailbox["id"])) == [
        "billing one",
        "billing three",
        "billing two",
        "first",
        "second",
    ]
