"""A message over SMTP costs the same few statements whatever its recipients and attachments."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

pytestmark = pytest.mark.asyncio


@contextmanager
def _work_per_task(engine: AsyncEngine) -> Iterator[dict[Any, list[str]]]:
    """Statements (and ``BEGIN``/checkouts) per asyncio task: the SMTP session is one task of its own."""
    work: dict[Any, list[str]] = defaultdict(list)

    def statement(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        work[asyncio.current_task()].append(sql.split("\n")[0][:100])

    def begin(conn: Any) -> None:
        work[asyncio.current_task()].append("BEGIN")

    def checkout(*args: Any) -> None:
        work[asyncio.current_task()].append("CHECKOUT")

    listeners: list[tuple[Any, str, Callable[..., None]]] = [
        (engine.sync_engine, "before_cursor_execute", statement),
        (engine.sync_engine, "begin", begin),
        (engine.sync_engine.pool, "checkout", checkout),
    ]
    for target, name, listener in listeners:
        event.listen(target, name, listener)
    try:
        yield work
    finally:
        for target, name, listener in listeners:
            event.remove(target, name, listener)


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


async def _session_work(service: Any, sender: str, recipients: list[str], attachments: int) -> list[str]:
    with _work_per_task(service.app.state.runtime.database.engine) as work:
        _, reply = await aiosmtplib.send(
            _mail(sender, recipients, attachments), hostname="127.0.0.1", port=service.smtp_port,
            sender=sender, recipients=recipients, start_tls=False,
        )  # fmt: skip
    assert reply.startswith("2.0.0 OK queued as "), reply
    [session] = [done for done in work.values() if any("INSERT INTO intake_email.raw_messages" in s for s in done)]
    return session


async def test_rcpt_and_data_take_one_transaction_of_a_few_statements_whatever_the_recipients(
    service: Any, unique_sender: Any
) -> None:
    mailboxes = [(await service.mailbox())["address"] for _ in range(3)]
    await _session_work(service, unique_sender(), mailboxes, attachments=0)  # the first reads the new mailboxes
    one = await _session_work(service, unique_sender(), mailboxes[:1], attachments=0)
    many = await _session_work(service, unique_sender(), mailboxes, attachments=2)
    # RCPT reads nothing (the mailboxes are cached); DATA is one transaction:
    # what is stored already, the messages, their outbox rows (and the attachments).
    assert one.count("BEGIN") == 1, one
    assert one.count("CHECKOUT") == 1, one
    assert len(one) - 2 <= 3, one
    assert many.count("BEGIN") == 1, many
    assert len(many) - 2 <= 4, many
