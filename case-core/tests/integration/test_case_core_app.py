"""case-core as it runs: real PostgreSQL, real broker, its consumers and its relay."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from omnicase.case_core.app import create_app
from omnicase.case_core.settings import CaseCoreSettings
from omnicase.case_core.testing import identity_headers, inbound_email
from omnicase.devtools.testing.apps import assert_ready, running
from omnicase.devtools.testing.plugin import SettingsFactory, eventually
from omnicase.devtools.testing.probes import read_topic
from omnicase.kit.bus.producer import EventProducer
from omnicase.kit.events import (
    AssignCase,
    CaseStatus,
    ChangeCase,
    Channel,
    Envelope,
    EventData,
    MessageReceived,
    Party,
    SetCaseStatus,
)
from omnicase.kit.ids import uuid7
from omnicase.kit.topics import Topic, physical

pytestmark = pytest.mark.asyncio


async def test_case_core_is_ready_with_its_database_broker_relay_and_consumers(
    service_settings: SettingsFactory,
) -> None:
    settings = service_settings(CaseCoreSettings)
    async with running(create_app(settings)) as client:
        client.headers.update(identity_headers(settings.internal_secret))
        await assert_ready(
            client,
            "case-core",
            "consumer:case-core.intake",
            "consumer:case-core.commands",
            "consumer:case-core.webhooks",
        )


async def _case_of(client: httpx.AsyncClient, address: str) -> dict[str, Any] | None:
    contacts = (await client.get("/api/v1/contacts", params={"q": address})).json()["items"]
    if not contacts:
        return None
    cases = (await client.get(f"/api/v1/contacts/{contacts[0]['id']}/cases")).json()["items"]
    return dict(cases[0]) if cases else None


async def test_messages_and_commands_from_the_broker_change_cases_and_publish_events(
    service_settings: SettingsFactory, kafka_bootstrap: str, topic_prefix: str
) -> None:
    settings = service_settings(CaseCoreSettings)
    address = f"broker-{uuid.uuid4().hex[:8]}@customer.example"
    message = MessageReceived(
        intake_id=uuid7(),
        channel=Channel.EMAIL,
        received_at=datetime.now(UTC),
        thread_key=address,
        sender=Party(email=address),
        subject="Printer on fire",
        text="smoke everywhere",
        message_id=f"<{uuid.uuid4().hex}@mail.example>",
    )
    producer = EventProducer(kafka_bootstrap, client_id="case-core-test")
    await producer.start()

    async def publish(data: EventData, key: str) -> None:
        await producer.publish(physical(data.topic, topic_prefix), data.envelope(source="test", subject=key), key=key)

    try:
        async with running(create_app(settings)) as client:
            client.headers.update(identity_headers(settings.internal_secret))
            # The intake publishes the message, then republishes it (it did not see the ack yet).
            await publish(message, address)
            await publish(message, address)

            async def case_with_message() -> dict[str, Any] | None:
                return await _case_of(client, address)

            await eventually(case_with_message, message="case created from the broker")
            case = await _case_of(client, address)
            assert case is not None
            case_id = case["id"]

            assignee, group = uuid.uuid4(), uuid.uuid4()
            await publish(SetCaseStatus(case_id=case_id, status=CaseStatus.CLOSED, reason="sla:bogus"), case_id)
            await publish(
                AssignCase(case_id=case_id, assignee_id=assignee, group_id=group, reason="routing: test"), case_id
            )
            await publish(
                ChangeCase(
                    case_id=case_id,
                    priority="urgent",
                    add_tags=["escalated"],
                    internal_note="SLA breached",
                    reason="sla:policy:first_reply:breach",
                ),
                case_id,
            )

            async def changed() -> bool:
                current = (await client.get(f"/api/v1/cases/{case_id}")).json()
                return bool(current["priority"] == "urgent")

            await eventually(changed, message="commands applied")
            current = (await client.get(f"/api/v1/cases/{case_id}")).json()
            assert current["assignee_id"] == str(assignee)
            assert current["group_id"] == str(group)
            assert current["status"] == "open"
            assert current["tags"] == ["escalated"]
            messages = (await client.get(f"/api/v1/cases/{case_id}/messages")).json()["items"]
            assert [(m["text"], m["public"]) for m in messages] == [("smoke everywhere", True), ("SLA breached", False)]
            history = (await client.get(f"/api/v1/cases/{case_id}/history")).json()["items"]
            priority = next(entry for entry in history if entry["field"] == "priority")
            assert priority["actor"] == "sla:policy:first_reply:breach"
            assert priority["via"] == "command"

            records = await read_topic(kafka_bootstrap, physical(Topic.CASE_EVENTS, topic_prefix), expect=5)
    finally:
        await producer.stop()

    events = [Envelope.from_bytes(record.value) for record in records]
    assert {record.key for record in records} == {case_id.encode()}
    kinds = [event.type for event in events]
    # Created once, acknowledged again for the copy, assigned, changed, noted.
    assert kinds == ["case.created", "case.message_added", "case.updated", "case.updated", "case.message_added"]
    assert events[0].data["source_intake_id"] == str(message.intake_id)
    assert events[1].data["source_intake_id"] == str(message.intake_id)
    assert set(events[2].data["changes"]) == {"assignee_id", "group_id", "status"}
    assert set(events[3].data["changes"]) == {"priority", "tags"}


async def test_two_concurrent_updates_of_one_version_one_wins_one_gets_412(service_settings: SettingsFactory) -> None:
    settings = service_settings(CaseCoreSettings)
    async with running(create_app(settings)) as client:
        client.headers.update(identity_headers(settings.internal_secret))
        created = await client.post(
            "/api/v1/cases", json={"subject": "Race", "requester": {"email": f"{uuid.uuid4().hex[:8]}@race.example"}}
        )
        case = created.json()
        headers = {"If-Match": f'"{case["version"]}"'}
        url = f"/api/v1/cases/{case['id']}"
        first, second = await asyncio.gather(
            client.patch(url, json={"priority": "urgent", "add_tags": ["a"]}, headers=headers),
            client.patch(url, json={"priority": "low", "add_tags": ["b"]}, headers=headers),
        )
        assert sorted([first.status_code, second.status_code]) == [200, 412]
        winner, loser = (first, second) if first.status_code == 200 else (second, first)
        assert loser.json()["current"] == winner.json()
        final = (await client.get(url)).json()
        assert final == winner.json()
        assert final["version"] == 2


async def test_a_burst_of_mail_and_replies_in_shared_batches_gives_one_case_per_thread(
    service_settings: SettingsFactory, kafka_bootstrap: str, topic_prefix: str
) -> None:
    settings = service_settings(CaseCoreSettings)
    run = uuid.uuid4().hex[:8]
    senders = [f"burst-{run}-{index}@customer.example" for index in range(20)]
    firsts = [inbound_email(sender, f"Order {index} missing") for index, sender in enumerate(senders)]
    replies = [
        inbound_email(sender, "Re: order", "any news?", in_reply_to=[first.message_id or ""])
        for sender, first in zip(senders, firsts, strict=True)
    ]
    producer = EventProducer(kafka_bootstrap, client_id="case-core-burst")
    await producer.start()
    try:
        # Published before the service starts, so its consumer meets them in full batches.
        topic = physical(Topic.INTAKE_MESSAGES, topic_prefix)
        for message in [*firsts, *replies, firsts[0]]:
            envelope = message.envelope(source="test", subject=str(message.intake_id))
            await producer.publish(topic, envelope, key=message.thread_key)
    finally:
        await producer.stop()

    async with running(create_app(settings)) as client:
        client.headers.update(identity_headers(settings.internal_secret))

        async def cases_for_run() -> list[dict[str, Any]]:
            response = await client.get("/api/v1/cases", params={"q": "order missing news", "limit": 200})
            items: list[dict[str, Any]] = response.json()["items"]
            return [case for case in items if case["subject"].startswith("Order ")]

        async def all_replied() -> bool:
            found = await cases_for_run()
            if len(found) < len(senders):
                return False
            counts = [len((await client.get(f"/api/v1/cases/{case['id']}/messages")).json()["items"]) for case in found]
            return all(count == 2 for count in counts)

        await eventually(all_replied, within=30, message="every reply threaded")
        found = await cases_for_run()
    assert sorted(case["subject"] for case in found) == sorted(first.subject or "" for first in firsts)
