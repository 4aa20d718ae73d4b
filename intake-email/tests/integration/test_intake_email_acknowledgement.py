"""End-to-end acknowledgement from case-core's events, auto-responses, republication."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import aiosmtplib
import pytest
from sqlalchemy import func, select

from omnicase.intake_email.models import outbound_messages
from omnicase.kit.events import (
    CaseCreated,
    CaseMessageAdded,
    CaseSnapshot,
    CaseStatus,
    Channel,
    Priority,
)
from omnicase.kit.testing.plugin import eventually
from omnicase.kit.testing.probes import read_topic
from omnicase.kit.topics import Topic, physical

pytestmark = pytest.mark.asyncio


def mail(sender: str, to: str, *, subject: str = "Printer on fire", headers: str = "") -> bytes:
    return (
        f"From: Ada Customer <{sender}>\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@example.org>\r\n{headers}"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\nPlease help.\r\n"
    ).encode()


async def deliver(service: Any, raw: bytes, sender: str, to: str) -> uuid.UUID:
    _, reply = await aiosmtplib.send(
        raw, hostname="127.0.0.1", port=service.smtp_port, sender=sender, recipients=[to], start_tls=False
    )
    return uuid.UUID(reply.rsplit(" ", 1)[-1])


def snapshot(case_id: uuid.UUID, number: int, subject: str) -> CaseSnapshot:
    now = datetime.now(UTC)
    return CaseSnapshot(
        case_id=case_id,
        number=number,
        subject=subject,
        status=CaseStatus.NEW,
        priority=Priority.NORMAL,
        channel=Channel.EMAIL,
        created_at=now,
        updated_at=now,
        version=1,
    )


async def case_created(producer: Any, service: Any, intake_id: uuid.UUID, number: int = 42) -> uuid.UUID:
    case_id = uuid.uuid4()
    event = CaseCreated(case=snapshot(case_id, number, "Printer on fire"), source_intake_id=intake_id)
    await producer.publish(
        physical(Topic.CASE_EVENTS, service.settings.topic_prefix),
        event.envelope(source="case-core", subject=str(case_id)),
        key=str(case_id),
    )
    return case_id


async def status_of(service: Any, intake_id: uuid.UUID) -> dict[str, Any]:
    response = await service.client.get(f"/api/v1/mailboxes/-/messages/{intake_id}")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_new_case_acknowledges_the_message_and_sends_one_auto_response(
    start_sending_service: Any, smtp_sink: Any, producer: Any, unique_sender: Any
) -> None:
    service = await start_sending_service()
    mailbox = await service.mailbox(auto_response=True, display_name="Acme Help", signature="Acme")
    sender = unique_sender()
    intake_id = await deliver(service, mail(sender, mailbox["address"]), sender, mailbox["address"])
    case_id = await case_created(producer, service, intake_id)

    async def acknowledged() -> bool:
        return bool((await status_of(service, intake_id))["status"] == "acknowledged")

    await eventually(acknowledged, message="message acknowledged by case.created")
    assert (await status_of(service, intake_id))["case_id"] == str(case_id)
    await eventually(lambda: _arrived(smtp_sink, 1), message="auto-response sent")
    sent = smtp_sink.messages[0]
    response = sent.message
    assert sent.rcpt_tos == [sender]
    assert response["Auto-Submitted"] == "auto-replied"
    assert response["Subject"] == "Re: Printer on fire [#42]"
    original = await service.client.get(f"/api/v1/mailboxes/-/messages/{intake_id}")
    assert response["In-Reply-To"] == f"<{original.json()['message_id']}>"
    assert "opened case #42" in response.get_body(("plain",)).get_content()
    # The case shows the mail it was made of and the mail sent for it.
    inbound = (await service.client.get("/api/v1/mailboxes/-/messages", params={"case_id": str(case_id)})).json()
    assert [item["id"] for item in inbound["items"]] == [str(intake_id)]
    assert inbound["items"][0]["route"] == "smtp"
    assert inbound["items"][0]["size"] > 0

    async def auto_response_recorded_as_sent() -> bool:
        listed = await service.client.get("/api/v1/mailboxes/-/outbound", params={"case_id": str(case_id)})
        return [(item["kind"], item["status"]) for item in listed.json()["items"]] == [("auto_response", "sent")]

    await eventually(auto_response_recorded_as_sent, message="auto-response recorded as sent")

    # The same sender opens a second case at once: a responder loop gets no second answer.
    second = await deliver(service, mail(sender, mailbox["address"], subject="Again"), sender, mailbox["address"])
    await case_created(producer, service, second, number=43)
    await eventually(lambda: _acknowledged(service, second), message="second acknowledged")
    assert await auto_responses(service) == 1
    await service.app.state.runtime.extra["sender"].run_once()
    assert len(smtp_sink.messages) == 1


async def auto_responses(service: Any) -> int:
    async with service.app.state.runtime.database.unit_of_work() as session:
        count = await session.scalar(
            select(func.count()).where(
                outbound_messages.c.kind == "auto_response",
                outbound_messages.c.mailbox_id.in_(service.mailbox_ids),
            )
        )
    return int(count or 0)


async def _arrived(sink: Any, count: int) -> bool:
    return len(sink.messages) >= count


async def _acknowledged(service: Any, intake_id: uuid.UUID) -> bool:
    return bool((await status_of(service, intake_id))["status"] == "acknowledged")


async def test_no_auto_response_when_asked_for_none_when_the_mailbox_sends_none_or_for_thread_replies(
    start_sending_service: Any, smtp_sink: Any, producer: Any, unique_sender: Any
) -> None:
    service = await start_sending_service()
    responding = await service.mailbox(auto_response=True)
    silent = await service.mailbox(auto_response=False)
    person, other, replier = unique_sender(), unique_sender(), unique_sender()
    # Mail that asks for no auto-response (Exchange's header) opens a case but is not answered.
    suppressed = await deliver(
        service,
        mail(person, responding["address"], headers="X-Auto-Response-Suppress: All\r\n"),
        person,
        responding["address"],
    )
    quiet = await deliver(service, mail(other, silent["address"]), other, silent["address"])
    reply = await deliver(service, mail(replier, responding["address"]), replier, responding["address"])
    await case_created(producer, service, suppressed, number=1)
    await case_created(producer, service, quiet, number=2)
    # A reply that joined an existing case is acknowledged by case.message_added.
    case_id = uuid.uuid4()
    joined = CaseMessageAdded(
        case_id=case_id,
        message_id=uuid.uuid4(),
        direction="inbound",
        public=True,
        author="contact:1",
        channel=Channel.EMAIL,
        source_intake_id=reply,
        case=snapshot(case_id, 7, "Printer on fire"),
    )
    await producer.publish(
        physical(Topic.CASE_EVENTS, service.settings.topic_prefix),
        joined.envelope(source="case-core", subject=str(case_id)),
        key=str(case_id),
    )

    async def all_acknowledged() -> bool:
        return all([await _acknowledged(service, intake_id) for intake_id in (suppressed, quiet, reply)])

    await eventually(all_acknowledged, message="all three acknowledged")
    assert (await status_of(service, reply))["case_id"] == str(case_id)
    assert await auto_responses(service) == 0
    await service.app.state.runtime.extra["sender"].run_once()
    assert smtp_sink.messages == []


async def test_unacknowledged_message_is_published_again_until_case_core_confirms_it(
    start_sending_service: Any, producer: Any, unique_sender: Any, kafka_bootstrap: str
) -> None:
    service = await start_sending_service(republish_after_seconds=0.3, republish_interval_seconds=0.2)
    mailbox = await service.mailbox()
    sender = unique_sender()
    intake_id = await deliver(service, mail(sender, mailbox["address"]), sender, mailbox["address"])
    topic = physical(Topic.INTAKE_MESSAGES, service.settings.topic_prefix)

    async def published_at_least(count: int) -> bool:
        return bool((await status_of(service, intake_id))["published_count"] >= count)

    await eventually(lambda: published_at_least(3), message="republished while pending")
    await case_created(producer, service, intake_id)
    await eventually(lambda: _acknowledged(service, intake_id), message="acknowledged")
    settled = (await status_of(service, intake_id))["published_count"]
    records = await read_topic(kafka_bootstrap, topic, expect=settled, within=10)
    envelopes = [json.loads(record.value) for record in records]
    assert {envelope["data"]["intake_id"] for envelope in envelopes} == {str(intake_id)}
    assert len({envelope["id"] for envelope in envelopes}) == len(envelopes)  # each a new event id
    assert all(record.key == sender.encode() for record in records)
    assert (await status_of(service, intake_id))["published_count"] == settled  # no more once acknowledged
