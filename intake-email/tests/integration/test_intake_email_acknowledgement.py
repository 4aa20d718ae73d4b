"""End-to-end acknowledgement from case-core's events, which mail may be auto-responded to, sending
case-core's auto-responses (once per address per interval), republication."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from omnicase.devtools.testing.plugin import eventually
from omnicase.devtools.testing.probes import of_intake_messages, read_topic
from omnicase.intake_email.models import outbound_messages
from omnicase.kit.events import (
    CaseCreated,
    CaseMessageAdded,
    CaseSnapshot,
    CaseStatus,
    Channel,
    HeldMessageKept,
    OutboundMessageRequested,
    Party,
    Priority,
)
from omnicase.kit.topics import Topic, physical

pytestmark = pytest.mark.asyncio


def mail(sender: str, to: str, *, subject: str = "Printer on fire", headers: str = "") -> bytes:
    return (
        f"From: Ada Customer <{sender}>\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@example.org>\r\n{headers}"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\nPlease help.\r\n"
    ).encode()


async def deliver(service: Any, raw: bytes, sender: str, to: str) -> uuid.UUID:
    reply = await service.send(raw, sender, [to])
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


async def test_new_case_acknowledges_the_message_and_the_case_shows_the_mail_it_was_made_of(
    start_sending_service: Any, producer: Any, unique_sender: Any
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
    inbound = (await service.client.get("/api/v1/mailboxes/-/messages", params={"case_id": str(case_id)})).json()
    assert [item["id"] for item in inbound["items"]] == [str(intake_id)]
    assert inbound["items"][0]["route"] == "smtp"
    assert inbound["items"][0]["size"] > 0
    # The auto-response is case-core's to write now: the acknowledgement itself sends nothing.
    assert await auto_responses(service) == 0


async def test_case_core_is_told_which_mail_may_be_auto_responded_to(
    start_service: Any, unique_sender: Any, kafka_bootstrap: str, producer: Any
) -> None:
    service = await start_service(consume_events=True)
    responding = await service.mailbox(auto_response=True, suggest_articles=True)
    silent = await service.mailbox(auto_response=False, suggest_articles=True)
    person, suppressing, quiet = unique_sender(), unique_sender(), unique_sender()
    delivered = [await deliver(service, mail(person, responding["address"]), person, responding["address"])]
    # Exchange's header asks for no auto-response: the mail still opens a case.
    delivered.append(
        await deliver(
            service,
            mail(suppressing, responding["address"], headers="X-Auto-Response-Suppress: All\r\n"),
            suppressing,
            responding["address"],
        )
    )
    delivered.append(await deliver(service, mail(quiet, silent["address"]), quiet, silent["address"]))
    topic = physical(Topic.INTAKE_MESSAGES, service.settings.topic_prefix)
    records = await read_topic(kafka_bootstrap, topic, expect=3, within=10, keep=of_intake_messages(*delivered))
    envelopes = [json.loads(record.value)["data"] for record in records]
    verdicts = {data["sender"]["email"]: data["metadata"]["auto_response"] for data in envelopes}
    assert verdicts == {person: True, suppressing: False, quiet: False}
    # Suggested articles only where an acknowledgement goes out at all.
    suggesting = {data["sender"]["email"] for data in envelopes if data["metadata"].get("suggest_articles")}
    assert suggesting == {person}
    # Settled, so no later test's republisher sees them pending.
    for intake_id in delivered:
        await case_created(producer, service, intake_id)

    async def all_acknowledged() -> bool:
        return all([await _acknowledged(service, intake_id) for intake_id in delivered])

    await eventually(all_acknowledged, message="all acknowledged")


def auto_response_request(recipient: str, **fields: Any) -> OutboundMessageRequested:
    values: dict[str, Any] = {
        "outbound_id": uuid.uuid4(),
        "case_id": uuid.uuid4(),
        "channel": Channel.EMAIL,
        "to": [Party(email=recipient, name="Ada")],
        "subject": "Re: Printer on fire [#42]",
        "text": "We opened case #42.\n\n[ref:oc-0123456789abcdef0123]",
        "automatic": True,
        "in_reply_to": "original-1@example.org",
        "references": ["original-1@example.org"],
    }
    values.update(fields)
    return OutboundMessageRequested(**values)


async def test_case_cores_auto_response_goes_out_automatic_and_threaded_once_per_address_per_interval(
    start_sending_service: Any, smtp_sink: Any, producer: Any, unique_sender: Any
) -> None:
    service = await start_sending_service()
    mailbox = await service.mailbox(auto_response=True)
    service.settings.default_from_address = mailbox["address"]
    sender = unique_sender()
    first = auto_response_request(sender)
    await publish_outbound(producer, service, first)
    await eventually(lambda: _arrived(smtp_sink, 1), message="auto-response sent")
    response = smtp_sink.messages[0].message
    assert smtp_sink.messages[0].rcpt_tos == [sender]
    assert response["Auto-Submitted"] == "auto-replied"
    assert response["X-Auto-Response-Suppress"] == "All"
    assert response["In-Reply-To"] == "<original-1@example.org>"
    assert response["Subject"] == "Re: Printer on fire [#42]"
    assert "We opened case #42." in response.get_body(("plain",)).get_content()

    async def recorded_as_sent() -> bool:
        listed = await service.client.get("/api/v1/mailboxes/-/outbound", params={"case_id": str(first.case_id)})
        return [(item["kind"], item["status"]) for item in listed.json()["items"]] == [("auto_response", "sent")]

    await eventually(recorded_as_sent, message="auto-response recorded as sent")

    # The same address opens a second case at once (an auto-responder loop): no second answer,
    # while an agent's reply to it still goes out.
    second = auto_response_request(sender, subject="Re: Again [#43]")
    reply = auto_response_request(sender, automatic=False, subject="Re: Again [#43]", text="An agent writes.")
    await publish_outbound(producer, service, second)
    await publish_outbound(producer, service, reply)
    await eventually(lambda: _arrived(smtp_sink, 2), message="the agent's reply sent")
    await service.app.state.runtime.state.sender.run_once()
    assert [message.message["Auto-Submitted"] for message in smtp_sink.messages] == ["auto-replied", None]
    assert await auto_responses(service) == 1


async def publish_outbound(producer: Any, service: Any, request: OutboundMessageRequested) -> None:
    await producer.publish(
        physical(Topic.OUTBOUND_MESSAGES, service.settings.topic_prefix),
        request.envelope(source="case-core", subject=str(request.case_id)),
        key=str(request.case_id),
    )


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


async def test_a_thread_reply_is_acknowledged_by_message_added(
    start_sending_service: Any, producer: Any, unique_sender: Any
) -> None:
    service = await start_sending_service()
    responding = await service.mailbox(auto_response=True)
    replier = unique_sender()
    reply = await deliver(service, mail(replier, responding["address"]), replier, responding["address"])
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
    await eventually(lambda: _acknowledged(service, reply), message="reply acknowledged")
    assert (await status_of(service, reply))["case_id"] == str(case_id)
    assert await auto_responses(service) == 0


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
    records = await read_topic(kafka_bootstrap, topic, expect=settled, within=10, keep=of_intake_messages(intake_id))
    envelopes = [json.loads(record.value) for record in records]
    assert {envelope["data"]["intake_id"] for envelope in envelopes} == {str(intake_id)}
    assert len({envelope["id"] for envelope in envelopes}) == len(envelopes)  # each a new event id
    assert all(record.key == sender.encode() for record in records)
    assert (await status_of(service, intake_id))["published_count"] == settled  # no more once acknowledged


async def test_a_held_bounce_is_published_until_case_core_keeps_it_and_settled_by_the_case_it_is_recovered_into(
    start_sending_service: Any, producer: Any, kafka_bootstrap: str
) -> None:
    service = await start_sending_service(republish_after_seconds=0.3, republish_interval_seconds=0.2)
    mailbox = await service.mailbox()
    bounce = mail("MAILER-DAEMON@mx.example.org", mailbox["address"], subject="Undelivered Mail Returned to Sender")
    intake_id = await deliver(service, bounce, "mailer-daemon@mx.example.org", mailbox["address"])

    async def published_at_least(count: int) -> bool:
        return bool((await status_of(service, intake_id))["published_count"] >= count)

    await eventually(lambda: published_at_least(3), message="republished until case-core keeps it")
    kept = HeldMessageKept(source_intake_id=intake_id)
    await producer.publish(
        physical(Topic.CASE_EVENTS, service.settings.topic_prefix),
        kept.envelope(source="case-core", subject=str(intake_id)),
        key=str(intake_id),
    )

    async def kept_by_case_core() -> bool:
        return (await status_of(service, intake_id))["acknowledged_at"] is not None

    await eventually(kept_by_case_core, message="acknowledged as held")
    stored = await status_of(service, intake_id)
    assert (stored["status"], stored["hold_reason"], stored["case_id"]) == ("dropped", "noise", None)
    topic = physical(Topic.INTAKE_MESSAGES, service.settings.topic_prefix)
    records = await read_topic(
        kafka_bootstrap, topic, expect=stored["published_count"], within=10, keep=of_intake_messages(intake_id)
    )
    assert {json.loads(record.value)["type"] for record in records} == {"intake.message_held"}
    await asyncio.sleep(1)  # five republication rounds
    assert (await status_of(service, intake_id))["published_count"] == stored["published_count"]

    # Staff recovered it from the queue: the case it opened settles it like any message.
    case_id = await case_created(producer, service, intake_id)
    await eventually(lambda: _acknowledged(service, intake_id), message="settled by its case")
    assert (await status_of(service, intake_id))["case_id"] == str(case_id)


async def test_an_auto_response_asked_for_before_the_acknowledgement_leaves_from_the_mailbox_written_to(
    start_sending_service: Any, smtp_sink: Any, producer: Any, unique_sender: Any
) -> None:
    service = await start_sending_service()
    await service.mailbox(display_name="Oldest")  # the fallback, were the answered mail not found
    returns = await service.mailbox(display_name="Acme Returns", auto_response=True)
    sender = unique_sender()
    raw = mail(sender, returns["address"])
    intake_id = await deliver(service, raw, sender, returns["address"])
    original = (await service.client.get(f"/api/v1/mailboxes/-/messages/{intake_id}")).json()
    # case.created has not arrived (another topic): the case is not known to be this mail's yet.
    await publish_outbound(producer, service, auto_response_request(sender, in_reply_to=original["message_id"]))
    await eventually(lambda: _arrived(smtp_sink, 1), message="auto-response sent")
    sent = smtp_sink.messages[0]
    assert sent.mail_from == returns["address"]
    assert sent.message["From"] == f"Acme Returns <{returns['address']}>"
    await case_created(producer, service, intake_id)  # settled, so no later test republishes it
    await eventually(lambda: _acknowledged(service, intake_id), message="acknowledged")
