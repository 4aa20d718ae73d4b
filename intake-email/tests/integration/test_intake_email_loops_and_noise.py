"""Auto-replies, bounces, bulk mail, own addresses, runaway senders and unreadable mail, over SMTP."""

from __future__ import annotations

import json
import uuid
from typing import Any

import aiosmtplib
import pytest

from omnicase.devtools.testing.probes import read_topic
from omnicase.intake_email.outbound.repository import OutboundRepository
from omnicase.kit.clock import utcnow
from omnicase.kit.events import Envelope, HoldReason, MessageHeld
from omnicase.kit.topics import Topic, physical

pytestmark = pytest.mark.asyncio


def mail(sender: str, to: str, headers: str = "", body: str = "Hello") -> bytes:
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: Test\r\nMessage-ID: <{uuid.uuid4().hex}@example.org>\r\n"
        f"{headers}Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


async def deliver(service: Any, raw: bytes, sender: str, to: str) -> dict[str, Any]:
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=service.smtp_port, start_tls=False, timeout=10)
    await client.connect()
    await client.ehlo()
    try:
        # By hand, so the null sender <> can be used too.
        assert (await client.execute_command(f"MAIL FROM:<{sender}>".encode())).code == 250
        assert (await client.rcpt(to)).code == 250
        reply = (await client.data(raw)).message
    finally:
        client.close()
    intake_id = reply.rsplit(" ", 1)[-1]
    stored = await service.client.get(f"/api/v1/mailboxes/-/messages/{intake_id}")
    assert stored.status_code == 200
    body: dict[str, Any] = stored.json()
    return body


async def published(service: Any, kafka_bootstrap: str, expect: int) -> list[dict[str, Any]]:
    """The messages handed on to case-core as they are (held ones are not among them)."""
    records = await _records(service, kafka_bootstrap, expect)
    return [envelope["data"] for envelope in records if envelope["type"] == "intake.message_received"]


async def held(service: Any, kafka_bootstrap: str, expect: int) -> list[MessageHeld]:
    """The messages held back, as case-core's suspended-messages queue gets them."""
    records = await _records(service, kafka_bootstrap, expect)
    return [MessageHeld.parse(Envelope.model_validate(e)) for e in records if e["type"] == "intake.message_held"]


async def _records(service: Any, kafka_bootstrap: str, expect: int) -> list[dict[str, Any]]:
    topic = physical(Topic.INTAKE_MESSAGES, service.settings.topic_prefix)
    records = await read_topic(kafka_bootstrap, topic, expect=expect, within=5)
    return [json.loads(record.value) for record in records]


async def test_auto_reply_bounce_and_bulk_mail_not_about_a_case_are_held_with_a_reason(
    service: Any, unique_sender: Any, kafka_bootstrap: str
) -> None:
    mailbox = await service.mailbox(auto_response=True)
    address = mailbox["address"]
    out_of_office = await deliver(
        service, mail(unique_sender(), address, "Auto-Submitted: auto-replied\r\n"), unique_sender(), address
    )
    newsletter = await deliver(
        service, mail(unique_sender(), address, "List-Id: <news.example.org>\r\n"), unique_sender(), address
    )
    bounce = await deliver(service, mail("MAILER-DAEMON@mx.example.org", address), "", address)
    assert [out_of_office["status"], newsletter["status"], bounce["status"]] == ["dropped"] * 3
    assert out_of_office["noise"] == "auto_reply"
    assert "Auto-Submitted: auto-replied" in out_of_office["reason"]
    assert newsletter["noise"] == "bulk"
    assert bounce["noise"] == "bounce"
    assert bounce["envelope_from"] == ""
    assert {out_of_office["hold_reason"], newsletter["hold_reason"], bounce["hold_reason"]} == {"noise"}
    assert await published(service, kafka_bootstrap, expect=3) == [], "none of them opens a case"
    kept = {str(message.message.intake_id): message for message in await held(service, kafka_bootstrap, expect=3)}
    for stored in (out_of_office, newsletter, bounce):
        assert kept[stored["id"]].reason == HoldReason.NOISE
        assert kept[stored["id"]].detail == stored["reason"]
    assert kept[bounce["id"]].message.auto_generated


async def test_auto_reply_and_bounce_of_our_own_mail_are_recorded_on_the_case_and_marked_auto_generated(
    service: Any, unique_sender: Any, kafka_bootstrap: str
) -> None:
    mailbox = await service.mailbox()
    case_id = uuid.uuid4()
    async with service.app.state.runtime.database.unit_of_work() as session:
        now = utcnow()
        await OutboundRepository(session).insert(
            {
                "id": uuid.uuid4(),
                "case_id": case_id,
                "kind": "reply",
                "mail_from": mailbox["address"],
                "primary_recipient": "x@example.org",
                "recipients": ["x@example.org"],
                "subject": "Re: Printer [#42]",
                "message_id": f"sent-{case_id}@omnicase.local",
                "raw": b"",
                "status": "sent",
                "next_attempt_at": now,
                "created_at": now,
            }
        )
    sender = unique_sender()
    stored = await deliver(
        service,
        mail(
            sender,
            mailbox["address"],
            f"Auto-Submitted: auto-replied\r\nIn-Reply-To: <sent-{case_id}@omnicase.local>\r\n",
        ),
        sender,
        mailbox["address"],
    )
    assert stored["status"] == "pending"
    # A bounce names the mail it returns only inside its attached headers.
    bounce = (
        f"From: MAILER-DAEMON@mx.example.org\r\nTo: {mailbox['address']}\r\nSubject: Undelivered\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@mx.example.org>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nCould not deliver.\r\n"
        "--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: {mailbox['address']}\r\nMessage-ID: <sent-{case_id}@omnicase.local>\r\n--b--\r\n"
    ).encode()
    returned = await deliver(service, bounce, "", mailbox["address"])
    assert returned["status"] == "pending"
    assert returned["noise"] == "bounce"
    events = await published(service, kafka_bootstrap, expect=2)
    assert [event["auto_generated"] for event in events] == [True, True]
    assert sorted(event["metadata"]["noise"]["kind"] for event in events) == ["auto_reply", "bounce"]
    [auto_reply] = [event for event in events if event["metadata"]["noise"]["kind"] == "auto_reply"]
    assert auto_reply["in_reply_to"] == [f"sent-{case_id}@omnicase.local"]


async def test_mail_from_one_of_our_own_addresses_is_ignored(service: Any, kafka_bootstrap: str) -> None:
    mailbox = await service.mailbox()
    other = await service.mailbox()
    stored = await deliver(service, mail(other["address"], mailbox["address"]), other["address"], mailbox["address"])
    assert stored["status"] == "dropped"
    assert "own address" in stored["reason"]
    assert await published(service, kafka_bootstrap, expect=1) == []
    [loop] = await held(service, kafka_bootstrap, expect=1)
    assert (str(loop.message.intake_id), loop.reason) == (stored["id"], HoldReason.MAIL_LOOP)


async def test_runaway_sender_is_suspended_after_the_rate_limit_and_others_are_not(
    start_service: Any, unique_sender: Any, kafka_bootstrap: str
) -> None:
    service = await start_service(sender_rate_limit=3)
    mailbox = await service.mailbox()
    runaway, person = unique_sender(), unique_sender()
    statuses = [
        (await deliver(service, mail(runaway, mailbox["address"]), runaway, mailbox["address"]))["status"]
        for _ in range(5)
    ]
    assert statuses == ["pending", "pending", "pending", "suspended", "suspended"]
    fourth = await deliver(service, mail(runaway, mailbox["address"]), runaway, mailbox["address"])
    assert "suspended until" in fourth["reason"]
    assert (await deliver(service, mail(person, mailbox["address"]), person, mailbox["address"]))["status"] == "pending"
    suspended = await held(service, kafka_bootstrap, expect=7)
    assert [message.reason for message in suspended] == [HoldReason.SENDER_SUSPENDED] * 3
    assert {message.message.sender.email for message in suspended} == {runaway}


async def test_malformed_mail_becomes_a_message_with_its_raw_source_attached(
    service: Any, unique_sender: Any, kafka_bootstrap: str
) -> None:
    mailbox = await service.mailbox()
    sender = unique_sender()
    raw = (
        f"From: {sender}\r\nTo: {mailbox['address']}\r\nSubject: broken\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="never-closed"\r\n\r\n--never-closed\r\n'
        "Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\nSGVsbG8gd29ybGQ=%%%\r\n"
    ).encode()
    stored = await deliver(service, raw, sender, mailbox["address"])
    assert stored["status"] == "pending"
    assert "CloseBoundaryNotFoundDefect" in stored["parse_errors"]
    [event] = await published(service, kafka_bootstrap, expect=1)
    assert event["text"] == "Hello world"
    [source] = [item for item in event["attachments"] if item["filename"] == "original.eml"]
    # Kept in the suite's blob store, where case-core opens it from the case.
    assert await service.app.state.blobs.get(source["sha256"]) == raw


async def test_a_runaway_auto_responder_answering_our_mail_is_suspended_too(start_service: Any) -> None:
    service = await start_service(sender_rate_limit=2)
    mailbox = await service.mailbox()
    case_id = uuid.uuid4()
    async with service.app.state.runtime.database.unit_of_work() as session:
        now = utcnow()
        await OutboundRepository(session).insert(
            {
                "id": uuid.uuid4(),
                "case_id": case_id,
                "kind": "reply",
                "mail_from": mailbox["address"],
                "primary_recipient": "robot@example.org",
                "recipients": ["robot@example.org"],
                "subject": "Re: Printer [#42]",
                "message_id": f"loop-{case_id}@omnicase.local",
                "raw": b"",
                "status": "sent",
                "next_attempt_at": now,
                "created_at": now,
            }
        )
    headers = f"X-Autoreply: yes\r\nIn-Reply-To: <loop-{case_id}@omnicase.local>\r\n"
    statuses = [
        (
            await deliver(
                service, mail("robot@example.org", mailbox["address"], headers), "robot@example.org", mailbox["address"]
            )
        )["status"]
        for _ in range(3)
    ]
    assert statuses == ["pending", "pending", "suspended"]
