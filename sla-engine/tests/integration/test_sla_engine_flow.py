"""End to end through the broker: case events in; SLA events, case commands, mail and webhooks out."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from omnicase.devtools.testing.apps import running
from omnicase.devtools.testing.clock import ManualClock
from omnicase.devtools.testing.plugin import SettingsFactory, eventually
from omnicase.devtools.testing.probes import read_topic
from omnicase.devtools.testing.servers import serve_http
from omnicase.kit.bus.producer import EventProducer
from omnicase.kit.events import (
    CaseCreated,
    CaseMessageAdded,
    CaseSnapshot,
    CaseStatus,
    CaseUpdated,
    Channel,
    Envelope,
    EventData,
    FieldChange,
    Priority,
)
from omnicase.kit.topics import Topic, physical
from omnicase.sla_engine.app import create_app
from omnicase.sla_engine.settings import SlaEngineSettings

# Through the gateway, as an admin (people get their role's scopes).
SLA_SCOPES = frozenset({"sla:read", "sla:write"})

pytestmark = pytest.mark.asyncio


def snapshot(brand: str, created_at: datetime, **fields: Any) -> CaseSnapshot:
    values: dict[str, Any] = {
        "case_id": uuid.uuid4(),
        "number": 7,
        "subject": "Cannot log in",
        "status": CaseStatus.NEW,
        "priority": Priority.HIGH,
        "channel": Channel.WEB,
        "brand": brand,
        "created_at": created_at,
        "updated_at": created_at,
        "version": 1,
    }
    values.update(fields)
    return CaseSnapshot(**values)


async def publish(producer: EventProducer, prefix: str, case_id: uuid.UUID, data: EventData) -> None:
    envelope = data.envelope(source="case-core", subject=str(case_id))
    await producer.publish(physical(Topic.CASE_EVENTS, prefix), envelope, key=str(case_id))


async def events_about(
    bootstrap: str, prefix: str, topic: Topic, case_id: uuid.UUID, expect: int, within: float = 20.0
) -> list[Envelope]:
    """Every event of ``topic`` about this case, once ``expect`` of them arrived (or ``within`` ran out).

    The topic may also carry other cases' events (a relay publishes whatever its outbox holds).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        records = await read_topic(bootstrap, physical(topic, prefix), expect=1_000_000, within=1.0)
        about = [Envelope.from_bytes(record.value) for record in records]
        about = [envelope for envelope in about if envelope.subject == str(case_id)]
        if len(about) >= expect or loop.time() > deadline:
            return about


async def test_a_breach_escalates_through_case_commands_mail_and_webhook(
    service_settings: SettingsFactory,
    producer: EventProducer,
    kafka_bootstrap: str,
    topic_prefix: str,
    clock: ManualClock,
    brand: str,
) -> None:
    hooks: list[dict[str, Any]] = []

    async def receive(request: Request) -> Response:
        hooks.append(await request.json())
        return JSONResponse({"ok": True})

    receiver = Starlette(routes=[Route("/hooks/sla", receive, methods=["POST"])])
    settings = service_settings(SlaEngineSettings, scheduler_poll_interval=0.05)
    async with serve_http(receiver) as hook_base, running(create_app(settings), scopes=SLA_SCOPES) as client:
        group = uuid.uuid4()
        policy = await client.post(
            "/api/v1/sla/policies",
            json={
                "name": f"High {brand}",
                "conditions": {"brand": [brand]},
                "targets": {"high": {"first_reply": {"minutes": 60}}},
                "escalations": [
                    {
                        "on": "breach",
                        "actions": [
                            {"type": "set_priority", "priority": "urgent"},
                            {"type": "move_to_group", "group_id": str(group)},
                            {"type": "add_tags", "tags": ["sla-breached"]},
                            {"type": "notify_email", "to": ["oncall@example.com"]},
                            {"type": "webhook", "url": f"{hook_base}/hooks/sla"},
                        ],
                    }
                ],
            },
        )
        assert policy.status_code == 201, policy.text
        late = snapshot(brand, clock.now())
        on_time = snapshot(brand, clock.now())
        for case in (late, on_time):
            await publish(producer, topic_prefix, case.case_id, CaseCreated(case=case))

        async def tracked() -> bool:
            responses = [await client.get(f"/api/v1/sla/cases/{case.case_id}") for case in (late, on_time)]
            return all(response.status_code == 200 for response in responses)

        await eventually(tracked, message="cases tracked")
        state = (await client.get(f"/api/v1/sla/cases/{late.case_id}")).json()
        [first_reply] = state["milestones"]
        assert (first_reply["kind"], first_reply["status"]) == ("first_reply", "running")
        assert first_reply["due_at"] == (clock.now() + timedelta(hours=1)).isoformat().replace("+00:00", "Z")

        replied = on_time.model_copy(update={"status": CaseStatus.OPEN, "version": 2})
        await publish(
            producer,
            topic_prefix,
            on_time.case_id,
            CaseMessageAdded(
                case_id=on_time.case_id,
                message_id=uuid.uuid4(),
                direction="outbound",
                public=True,
                author="user:9",
                author_role="agent",
                channel=Channel.WEB,
                case=replied,
            ),
        )

        async def achieved() -> bool:
            body = (await client.get(f"/api/v1/sla/cases/{on_time.case_id}")).json()
            return bool(body["milestones"][0]["status"] == "achieved")

        await eventually(achieved, message="on-time reply achieved")
        await clock.advance(61 * 60)

        async def breached() -> bool:
            body = (await client.get(f"/api/v1/sla/cases/{late.case_id}")).json()
            return body["milestones"][0]["breached_at"] is not None and len(hooks) == 1

        await eventually(breached, message="breach fired")

        # case-core applies the escalation: the case is urgent now, which this policy has no target for.
        escalated = late.model_copy(
            update={"priority": Priority.URGENT, "status": CaseStatus.OPEN, "version": 2, "updated_at": clock.now()}
        )
        changes = {
            "priority": FieldChange(old="high", new="urgent"),
            "status": FieldChange(old="new", new="open"),
        }
        await publish(
            producer,
            topic_prefix,
            late.case_id,
            CaseUpdated(case_id=late.case_id, version=2, changes=changes, actor="sla:breach", case=escalated),
        )

        async def retimed() -> bool:
            body = (await client.get(f"/api/v1/sla/cases/{late.case_id}")).json()
            return bool(body["case_status"] == "open")

        await eventually(retimed, message="escalated case re-timed")
        after = (await client.get(f"/api/v1/sla/cases/{late.case_id}")).json()
        [kept] = after["milestones"]
        assert (kept["kind"], kept["status"]) == ("first_reply", "breached"), "the broken promise stays on record"

    sla_events = await events_about(kafka_bootstrap, topic_prefix, Topic.SLA_EVENTS, late.case_id, expect=4)
    assert [
        (event.type, event.data.get("level") or [clock["breached"] for clock in event.data["clocks"]])
        for event in sla_events
    ] == [
        ("sla.clocks_started", [False]),
        ("sla.threshold_reached", "warning"),
        ("sla.milestones_updated", [True]),
        ("sla.threshold_reached", "breach"),
    ]
    commands = await events_about(kafka_bootstrap, topic_prefix, Topic.CASE_COMMANDS, late.case_id, expect=1)
    assert [(c.type, c.data["priority"], c.data["group_id"], c.data["add_tags"]) for c in commands] == [
        ("case.change", "urgent", str(group), ["sla-breached"])
    ]
    mails = await events_about(kafka_bootstrap, topic_prefix, Topic.OUTBOUND_MESSAGES, late.case_id, expect=1)
    assert [[party["email"] for party in mail.data["to"]] for mail in mails] == [["oncall@example.com"]]
    assert hooks[0]["case_id"] == str(late.case_id)
    assert hooks[0]["level"] == "breach"
    on_time_events = await events_about(kafka_bootstrap, topic_prefix, Topic.SLA_EVENTS, on_time.case_id, expect=3)
    clocks = [[(c["state"], c["breached"]) for c in event.data.get("clocks", [])] for event in on_time_events]
    assert [
        (event.type, event.data.get("breached", told)) for event, told in zip(on_time_events, clocks, strict=True)
    ] == [
        ("sla.clocks_started", [("running", False)]),
        ("sla.milestone_achieved", False),
        ("sla.milestones_updated", [("achieved", False)]),
    ]
    assert (
        await events_about(kafka_bootstrap, topic_prefix, Topic.CASE_COMMANDS, on_time.case_id, expect=1, within=0)
        == []
    )


async def test_solved_for_four_days_closes_the_case_through_case_commands(
    service_settings: SettingsFactory,
    producer: EventProducer,
    kafka_bootstrap: str,
    topic_prefix: str,
    clock: ManualClock,
    brand: str,
) -> None:
    settings = service_settings(SlaEngineSettings, scheduler_poll_interval=0.05)
    async with running(create_app(settings), scopes=SLA_SCOPES) as client:
        automation = await client.post(
            "/api/v1/automations",
            json={
                "name": f"Close solved {brand}",
                "conditions": {"brand": [brand], "status": ["solved"]},
                "time_condition": {"since": "solved", "hours": 96},
                "actions": [{"type": "set_status", "status": "closed"}],
            },
        )
        assert automation.status_code == 201, automation.text
        case = snapshot(brand, clock.now())
        await publish(producer, topic_prefix, case.case_id, CaseCreated(case=case))
        solved = case.model_copy(update={"status": CaseStatus.SOLVED, "version": 2, "updated_at": clock.now()})
        await publish(
            producer,
            topic_prefix,
            case.case_id,
            CaseUpdated(
                case_id=case.case_id,
                version=2,
                changes={"status": FieldChange(old="new", new="solved")},
                actor="user:1",
                case=solved,
            ),
        )

        async def solved_seen() -> bool:
            response = await client.get(f"/api/v1/sla/cases/{case.case_id}")
            return response.status_code == 200 and response.json()["case_status"] == "solved"

        await eventually(solved_seen, message="solved case tracked")
        await clock.advance(95 * 3600)
        await clock.advance(2 * 3600)
        commands = await events_about(kafka_bootstrap, topic_prefix, Topic.CASE_COMMANDS, case.case_id, expect=1)
        assert [(c.type, c.data["status"]) for c in commands] == [("case.set_status", "closed")]


async def test_a_policy_created_later_applies_to_cases_already_open(
    service_settings: SettingsFactory,
    producer: EventProducer,
    topic_prefix: str,
    clock: ManualClock,
    brand: str,
) -> None:
    settings = service_settings(SlaEngineSettings, scheduler_poll_interval=0.05)
    async with running(create_app(settings), scopes=SLA_SCOPES) as client:
        case = snapshot(brand, clock.now())
        await publish(producer, topic_prefix, case.case_id, CaseCreated(case=case))

        async def seen() -> bool:
            return (await client.get(f"/api/v1/sla/cases/{case.case_id}")).status_code == 200

        await eventually(seen, message="case tracked")
        assert (await client.get(f"/api/v1/sla/cases/{case.case_id}")).json()["milestones"] == []
        await clock.advance(600)
        policy = await client.post(
            "/api/v1/sla/policies",
            json={
                "name": f"Late {brand}",
                "conditions": {"brand": [brand]},
                "targets": {"high": {"resolution": {"minutes": 240}}},
            },
        )
        assert policy.status_code == 201

        async def targeted() -> bool:
            body = (await client.get(f"/api/v1/sla/cases/{case.case_id}")).json()
            return bool(body["milestones"])

        await eventually(targeted, message="policy applied to the open case")
        body = (await client.get(f"/api/v1/sla/cases/{case.case_id}")).json()
        assert body["policy_id"] == policy.json()["id"]
        [resolution] = body["milestones"]
        assert resolution["due_at"] == (case.created_at + timedelta(hours=4)).isoformat().replace("+00:00", "Z")
        assert resolution["elapsed_seconds"] == 600
