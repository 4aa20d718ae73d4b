"""A real SMTP conversation with the listener, for every reply code path."""

from __future__ import annotations

import asyncio
import json
import re
import ssl
import uuid
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
from sqlalchemy import func, select

from omnicase.devtools.testing.probes import read_topic
from omnicase.intake_email.models import raw_messages
from omnicase.kit.topics import Topic, physical

pytestmark = pytest.mark.asyncio


def message(sender: str, to: str, *, message_id: str | None = None, body: str = "My printer is on fire.") -> bytes:
    mid = message_id or f"<{uuid.uuid4().hex}@example.org>"
    return (
        f"From: Ada Customer <{sender}>\r\nTo: {to}\r\nSubject: Help please\r\nMessage-ID: {mid}\r\n"
        f"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


async def connect(port: int) -> aiosmtplib.SMTP:
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, timeout=10)
    await client.connect()
    await client.ehlo()
    return client


async def stored_count(service: Any, mailbox_id: str) -> int:
    async with service.app.state.runtime.database.unit_of_work() as session:
        return int(
            await session.scalar(select(func.count()).where(raw_messages.c.mailbox_id == uuid.UUID(mailbox_id))) or 0
        )


async def test_unknown_recipient_is_refused_with_550_and_known_one_accepted(service: Any, unique_sender: Any) -> None:
    mailbox = await service.mailbox()
    client = await connect(service.smtp_port)
    try:
        assert (await client.mail(unique_sender())).code == 250
        unknown = await client.execute_command(b"RCPT", b"TO:<nobody@acme.test>")
        assert unknown.code == 550
        assert unknown.message.startswith("5.1.1")
        known = await client.execute_command(b"RCPT", f"TO:<{mailbox['address'].upper()}>".encode())
        assert known.code == 250
    finally:
        client.close()


async def test_accepted_message_is_committed_and_published_keyed_by_sender(
    service: Any, unique_sender: Any, kafka_bootstrap: str
) -> None:
    mailbox = await service.mailbox(brand="acme", defaults={"priority": "high", "tags": ["email"]})
    sender = unique_sender()
    raw = message(sender.upper(), mailbox["address"])
    counted_before = await received_metric(service)
    reply = await service.send(raw, sender, [mailbox["address"]])
    assert reply.startswith("2.0.0 OK queued as ")
    intake_id = reply.rsplit(" ", 1)[-1]
    stored = await service.client.get(f"/api/v1/mailboxes/-/messages/{intake_id}")
    assert stored.status_code == 200
    assert stored.json()["route"] == "smtp"
    assert stored.json()["status"] == "pending"
    assert stored.json()["envelope_from"] == sender
    source = await service.client.get(f"/api/v1/mailboxes/-/messages/{intake_id}/source")
    assert source.content == raw
    records = await read_topic(
        kafka_bootstrap, physical(Topic.INTAKE_MESSAGES, service.settings.topic_prefix), expect=1
    )
    assert len(records) == 1
    assert records[0].key == sender.encode()  # the thread key, lowercased
    envelope = json.loads(records[0].value)
    assert envelope["type"] == "intake.message_received"
    data = envelope["data"]
    assert data["intake_id"] == intake_id
    assert data["text"] == "My printer is on fire."
    assert data["recipient"] == mailbox["address"]
    assert data["defaults"]["priority"] == "high"
    assert data["defaults"]["brand"] == "acme"
    assert data["auto_generated"] is False
    assert await received_metric(service) == counted_before + 1


async def received_metric(service: Any) -> float:
    metrics = (await service.client.get("/metrics")).text
    found = re.search(r'^omnicase_email_received_total\{route="smtp",status="pending"\} (\S+)$', metrics, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def test_size_is_advertised_and_larger_messages_get_552(service: Any, unique_sender: Any) -> None:
    limit = service.settings.max_message_bytes
    client = await connect(service.smtp_port)
    try:
        assert client.supports_extension("size")
        assert client.esmtp_extensions["size"] == str(limit)
        declared = await client.execute_command(b"MAIL", f"FROM:<{unique_sender()}> SIZE={limit + 1}".encode())
        assert declared.code == 552
        assert declared.message.startswith("5.3.4")
    finally:
        client.close()


async def test_message_over_the_limit_in_data_gets_552_and_nothing_is_stored(
    start_service: Any, unique_sender: Any
) -> None:
    service = await start_service(max_message_bytes=4096)
    mailbox = await service.mailbox()
    raw = message(unique_sender(), mailbox["address"], body="x" * 70 + ("\r\n" + "y" * 70) * 100)
    client = await connect(service.smtp_port)
    try:
        # No SIZE declared in MAIL: the limit must hold while the data streams in.
        assert (await client.execute_command(b"MAIL", f"FROM:<{unique_sender()}>".encode())).code == 250
        assert (await client.rcpt(mailbox["address"])).code == 250
        with pytest.raises(aiosmtplib.SMTPDataError) as refused:
            await client.data(raw)
    finally:
        client.close()
    assert refused.value.code == 552
    assert refused.value.message.startswith("5.3.4")
    assert await stored_count(service, mailbox["id"]) == 0


async def test_same_message_delivered_twice_yields_one_intake_record(service: Any, unique_sender: Any) -> None:
    mailbox = await service.mailbox()
    raw = message(unique_sender(), mailbox["address"], message_id="<lost-250-" + uuid.uuid4().hex + "@example.org>")
    replies = []
    for _ in range(2):  # the client never saw the first 250 and sends again
        reply = await service.send(raw, unique_sender(), [mailbox["address"]])
        replies.append(reply.rsplit(" ", 1)[-1])
    assert replies[0] == replies[1]
    assert await stored_count(service, mailbox["id"]) == 1


async def test_same_message_delivered_by_several_sessions_at_once_is_stored_once(
    service: Any, unique_sender: Any
) -> None:
    mailbox = await service.mailbox()
    raw = message(unique_sender(), mailbox["address"], message_id="<retried-" + uuid.uuid4().hex + "@example.org>")

    async def deliver() -> str:
        reply = await service.send(raw, unique_sender(), [mailbox["address"]], timeout=60)
        return str(reply.rsplit(" ", 1)[-1])

    # Each may read "not stored yet" before any writes: the losers answer with the winner's id.
    ids = await asyncio.gather(*(deliver() for _ in range(6)))
    assert len(set(ids)) == 1, ids
    assert await stored_count(service, mailbox["id"]) == 1


async def test_message_without_any_sender_address_is_rejected_with_a_reason(service: Any) -> None:
    mailbox = await service.mailbox()
    raw = f"To: {mailbox['address']}\r\nSubject: who am I\r\n\r\nhello\r\n".encode()
    client = await connect(service.smtp_port)
    try:
        assert (await client.execute_command(b"MAIL", b"FROM:<>")).code == 250
        assert (await client.rcpt(mailbox["address"])).code == 250
        with pytest.raises(aiosmtplib.SMTPDataError) as refused:
            await client.data(raw)
    finally:
        client.close()
    assert refused.value.code == 550
    assert "no sender address" in refused.value.message
    assert await stored_count(service, mailbox["id"]) == 0


async def test_many_concurrent_sessions_are_each_committed_once(service: Any, unique_sender: Any) -> None:
    mailbox = await service.mailbox()

    async def deliver(index: int) -> str:
        reply: str = await service.send(
            message(unique_sender(), mailbox["address"], body=f"message {index}"),
            unique_sender(),
            [mailbox["address"]],
            timeout=60,
        )
        return reply.rsplit(" ", 1)[-1]

    ids = await asyncio.gather(*(deliver(index) for index in range(40)))
    assert len(set(ids)) == 40
    assert await stored_count(service, mailbox["id"]) == 40


async def test_starttls_is_offered_and_works_when_a_certificate_is_configured(
    start_service: Any, unique_sender: Any, tls_certificate: tuple[Path, Path]
) -> None:
    cert, key = tls_certificate
    service = await start_service(smtp_tls_cert_file=str(cert), smtp_tls_key_file=str(key), smtp_require_starttls=True)
    mailbox = await service.mailbox()
    plain = await connect(service.smtp_port)
    try:
        assert plain.supports_extension("starttls")
        refused = await plain.execute_command(b"MAIL", f"FROM:<{unique_sender()}>".encode())
        assert refused.code == 530  # STARTTLS required first
    finally:
        plain.close()
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False
    reply = await service.send(
        message(unique_sender(), mailbox["address"]),
        unique_sender(),
        [mailbox["address"]],
        start_tls=True,
        tls_context=context,
    )
    assert reply.startswith("2.0.0 OK")
    assert await stored_count(service, mailbox["id"]) == 1


async def _speak(port: int, sender: str, to: str, data: bytes) -> bytes:
    """An SMTP conversation by hand, sending ``data`` byte for byte (SMTP clients fix bare LFs)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def reply() -> bytes:
        while True:
            line = await asyncio.wait_for(reader.readline(), timeout=10)
            if line[3:4] != b"-":
                return line.rstrip()

    try:
        await reply()
        for command in (b"EHLO client.example", f"MAIL FROM:<{sender}>".encode(), f"RCPT TO:<{to}>".encode()):
            writer.write(command + b"\r\n")
            assert (await reply())[:1] == b"2", command
        writer.write(b"DATA\r\n")
        assert (await reply()).startswith(b"354")
        writer.write(data + b"\r\n.\r\n")
        return await reply()
    finally:
        writer.close()


async def test_lines_ending_in_a_bare_lf_are_refused_saying_so_and_nothing_is_stored(
    service: Any, unique_sender: Any
) -> None:
    mailbox = await service.mailbox()
    unix = message(unique_sender(), mailbox["address"]).replace(b"\r\n", b"\n")
    short = await _speak(service.smtp_port, unique_sender(), mailbox["address"], unix)
    assert short.startswith(b"550 5.5.2"), short
    assert b"bare LF" in short
    # Longer than a line may be and without one CRLF: aiosmtpd's own "line too long", told truly.
    long = await _speak(service.smtp_port, unique_sender(), mailbox["address"], unix + b"more text\n" * 200)
    assert long.startswith(b"500 5.5.2"), long
    assert b"bare LF" in long
    assert await stored_count(service, mailbox["id"]) == 0
    # The same mail with CRLF line ends goes in.
    fixed = await _speak(service.smtp_port, unique_sender(), mailbox["address"], unix.replace(b"\n", b"\r\n"))
    assert fixed.startswith(b"250 2.0.0"), fixed
    assert await stored_count(service, mailbox["id"]) == 1
