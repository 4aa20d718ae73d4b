"""A message over SMTP costs the same few statements whatever its recipients and attachments."""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from typing import Any

import pytest

from omnicase.devtools.testing.database import Work, database_work

pytestmark = pytest.mark.asyncio


def _mail(sender: str, recipients: list[str], attachments: int) -> bytes:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = ", ".join(recipients)
    mail["Subject"] = "Help please"
    mail["Message-ID"] = f"<{uuid.uuid4().hex}@example.org>"
    mail.set_content("My printer is on fire.")
    for index in range(attachments):
        mail.add_attachment(f"log {index}".encode(), maintype="text", subtype="plain", filename=f"log{index}.txt")
    return mail.as_bytes()


async def _session_work(service: Any, sender: str, recipients: list[str], attachments: int) -> Work:
    with database_work(service.app.state.runtime.database.engine, whole_statements=True) as work:
        reply = await service.send(_mail(sender, recipients, attachments), sender, recipients)
    assert reply.startswith("2.0.0 OK queued as "), reply
    # The SMTP session is one asyncio task of its own.
    [session] = [
        done
        for done in work.by_task.values()
        if any("INSERT INTO intake_email.raw_messages" in s for s in done.statements)
    ]
    return session


async def test_rcpt_and_data_take_two_statements_for_one_mailbox_and_one_transaction_for_several(
    service: Any, unique_sender: Any
) -> None:
    mailboxes = [(await service.mailbox())["address"] for _ in range(3)]
    await _session_work(service, unique_sender(), mailboxes, attachments=0)  # the first reads the new mailboxes
    one = await _session_work(service, unique_sender(), mailboxes[:1], attachments=0)
    many = await _session_work(service, unique_sender(), mailboxes, attachments=2)
    # RCPT reads nothing (the mailboxes are cached). DATA for one mailbox is two statements,
    # each its own transaction: what is stored already, then the message with its outbox row.
    assert (one.transactions, one.alone, one.checkouts) == (0, 2, 2), one
    assert len(one.statements) == 2, one
    assert "INSERT INTO intake_email.outbox" in one.statements[1], one
    # For several, one transaction: what is stored already, the messages, their outbox rows
    # (and the attachments).
    assert many.transactions == 1, many
    assert len(many.statements) <= 4, many
