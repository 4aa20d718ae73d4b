"""Trigger emails to the assignee and to a group: recorded with the change, recipients resolved
from the real routing app over HTTP by the background worker, handed to the email intake through
the outbox, settled by its report; retried while routing is down, then failed with the reason."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio

from omnicase.case_core.app import create_app
from omnicase.case_core.directory import StaffDirectory
from omnicase.case_core.notifications.dispatcher import NotificationDispatcher
from omnicase.case_core.settings import CaseCoreSettings
from omnicase.case_core.testing import (
    STAFF_SCOPES,
    Deliver,
    Published,
    WebhookReceiver,
    identity_headers,
    inbound_email,
)
from omnicase.case_core.wiring import Services
from omnicase.devtools.testing.apps import GatewayIdentity, running
from omnicase.devtools.testing.clock import ManualClock
from omnicase.devtools.testing.plugin import eventually
from omnicase.devtools.testing.probes import read_topic
from omnicase.devtools.testing.servers import serve_http
from omnicase.kit.db import Database
from omnicase.kit.events import NotificationReported
from omnicase.kit.topics import Topic, physical

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def directory(routing: httpx.AsyncClient, settings: CaseCoreSettings) -> AsyncIterator[StaffDirectory]:
    staff = StaffDirectory(str(routing.base_url), settings.internal_secret, ttl_seconds=0)
    yield staff
    await staff.aclose()


@pytest.fixture
def dispatcher(db: Database, services: Services, directory: StaffDirectory) -> NotificationDispatcher:
    """The notification dispatcher as the app runs it, asking routing's staff directory."""
    return NotificationDispatcher(db, services.notifications, directory)


def _as_admin_with(api: httpx.AsyncClient, services: Services, settings: CaseCoreSettings, **changes: Any) -> None:
    """Call as an admin (an identity signed per request, so one the clock outlives is never used) and run
    notifications with these settings changed."""
    api.auth = GatewayIdentity(settings.internal_secret, role="admin", scopes=STAFF_SCOPES)
    services.notifications.settings = settings.model_copy(update=changes)


async def _agent(routing: httpx.AsyncClient, name: str, email: str | None, groups: list[str]) -> str:
    body: dict[str, Any] = {"user_id": str(uuid.uuid4()), "name": name, "group_ids": groups}
    if email is not None:
        body["email"] = email
    response = await routing.post("/api/v1/agents", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["user_id"])


async def _group(routing: httpx.AsyncClient) -> str:
    response = await routing.post("/api/v1/groups", json={"name": f"Tier 2 {uuid.uuid4().hex[:6]}"})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _trigger(api: httpx.AsyncClient, action: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(
        "/api/v1/triggers",
        json={
            "name": f"Tell staff {uuid.uuid4().hex[:6]}",
            "conditions": {"all": [{"field": "priority", "operator": "changed_to", "value": "urgent"}]},
            "actions": [action],
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _urgent_case(api: httpx.AsyncClient, **extra: Any) -> dict[str, Any]:
    body = {
        "subject": "Printer on fire",
        "description": "It smokes.",
        "requester": {"email": f"{uuid.uuid4().hex[:8]}@customer.example", "name": "Grace <b>Hopper</b>"},
        **extra,
    }
    created = await api.post("/api/v1/cases", json=body)
    assert created.status_code == 201, created.text
    case: dict[str, Any] = created.json()
    changed = await api.patch(
        f"/api/v1/cases/{case['id']}", json={"priority": "urgent"}, headers={"If-Match": created.headers["ETag"]}
    )
    assert changed.status_code == 200, changed.text
    result: dict[str, Any] = changed.json()
    return result


async def _notifications(api: httpx.AsyncClient, case_id: str) -> list[dict[str, Any]]:
    response = await api.get(f"/api/v1/cases/{case_id}/notifications")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_trigger_emails_the_assignee_after_the_change_and_the_intake_settles_it(
    api: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    published: Published,
    deliver: Deliver,
    dispatcher: NotificationDispatcher,
) -> None:
    agent = await _agent(routing, "Ada Lovelace", "ada@support.example", [])
    rule = await _trigger(
        api,
        {
            "type": "email_assignee",
            "subject": "Urgent: #{{case.number}} {{case.subject}}",
            "text": "{{requester.name}} needs you on case {{case.number}}.",
        },
    )
    case = await _urgent_case(api, assignee_id=agent)
    [pending] = await _notifications(api, case["id"])
    assert pending["status"] == "pending", "nothing is sent inside the case's transaction"
    assert pending["trigger_id"] == rule["id"]
    assert pending["recipient_kind"] == "agent"
    assert pending["recipient_id"] == agent

    assert await dispatcher.run_once() == 1
    [requested] = await _notifications(api, case["id"])
    assert requested["status"] == "requested"
    assert requested["recipients"] == ["ada@support.example"]
    events = await published(case["id"])
    [(_, email)] = [(kind, data) for kind, data in events if kind == "outbound.notification_requested"]
    assert email["to"] == [{"email": "ada@support.example", "name": "Ada Lovelace", "phone": None, "handle": None}]
    assert email["subject"] == f"Urgent: #{case['number']} Printer on fire"
    # The case's hidden reference rides along, so an agent's emailed answer threads into the case.
    assert re.fullmatch(
        rf"Grace <b>Hopper</b> needs you on case {case['number']}\.\n\n\[ref:oc-[0-9a-f]{{20}}\]\n", email["text"]
    )
    assert "Grace &lt;b&gt;Hopper&lt;/b&gt;" in email["html"]
    assert email["reason"] == f"trigger:{rule['id']}"
    # A note to staff is no reply: nothing goes to the customer and the case's reply clock is untouched.
    assert not [kind for kind, _ in events if kind == "outbound.message_requested"]
    current = (await api.get(f"/api/v1/cases/{case['id']}")).json()
    assert current["first_public_reply_at"] is None

    await deliver(NotificationReported(notification_id=uuid.UUID(requested["id"]), status="sent"))
    [sent] = await _notifications(api, case["id"])
    assert sent["status"] == "sent"
    # Handed over once: another round finds nothing to do.
    assert await dispatcher.run_once() == 0


async def test_a_group_email_goes_to_every_member_with_an_address_and_a_failed_send_is_recorded(
    api: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    published: Published,
    deliver: Deliver,
    dispatcher: NotificationDispatcher,
) -> None:
    group, other = await _group(routing), await _group(routing)
    await _agent(routing, "Ada", "ada@support.example", [group])
    await _agent(routing, "Linus", "linus@support.example", [group, other])
    await _agent(routing, "No Mail", None, [group])
    await _agent(routing, "Elsewhere", "else@support.example", [other])
    await _trigger(api, {"type": "email_group", "group_id": group, "text": "Case {{case.number}} is urgent."})
    case = await _urgent_case(api)

    await dispatcher.run_once()
    [notification] = await _notifications(api, case["id"])
    assert sorted(notification["recipients"]) == ["ada@support.example", "linus@support.example"]
    [email] = [data for kind, data in await published(case["id"]) if kind == "outbound.notification_requested"]
    assert sorted(party["email"] for party in email["to"]) == ["ada@support.example", "linus@support.example"]
    assert email["subject"] == f"[#{case['number']}] Printer on fire", "the default subject"

    report = NotificationReported(notification_id=uuid.UUID(notification["id"]), status="failed", error="550 no")
    await deliver(report)
    [failed] = await _notifications(api, case["id"])
    assert (failed["status"], failed["last_error"]) == ("failed", "550 no")


async def test_the_cases_own_group_is_emailed_when_the_action_names_none(
    api: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    dispatcher: NotificationDispatcher,
) -> None:
    group = await _group(routing)
    await _agent(routing, "Ada", "ada@support.example", [group])
    await _trigger(api, {"type": "email_group", "text": "Urgent."})
    case = await _urgent_case(api, group_id=group)
    await dispatcher.run_once()
    [notification] = await _notifications(api, case["id"])
    assert (notification["recipient_id"], notification["recipients"]) == (group, ["ada@support.example"])


async def test_nobody_to_email_is_recorded_as_failed_with_the_reason(
    api: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    dispatcher: NotificationDispatcher,
) -> None:
    await _trigger(api, {"type": "email_assignee", "text": "Urgent."})
    unassigned = await _urgent_case(api)
    [at_once] = await _notifications(api, unassigned["id"])
    assert (at_once["status"], at_once["last_error"]) == ("failed", "the case has no assignee")

    stranger = str(uuid.uuid4())  # assigned, but routing has never heard of them
    no_mail = await _agent(routing, "No Mail", None, [])
    unknown = await _urgent_case(api, assignee_id=stranger)
    mailless = await _urgent_case(api, assignee_id=no_mail)
    await dispatcher.run_once()
    [unknown_agent] = await _notifications(api, unknown["id"])
    assert unknown_agent["status"] == "failed"
    assert unknown_agent["last_error"] == f"routing knows no agent {stranger}"
    assert unknown_agent["attempts"] == 1, "asking again cannot help"
    [without_address] = await _notifications(api, mailless["id"])
    assert without_address["last_error"] == "agent No Mail has no email address in routing"


async def test_while_routing_is_down_resolution_backs_off_then_fails_with_the_reason(
    api: httpx.AsyncClient,
    db: Database,
    services: Services,
    settings: CaseCoreSettings,
    clock: ManualClock,
) -> None:
    _as_admin_with(api, services, settings, notification_max_attempts=3, notification_retry_base_seconds=60.0)
    await _trigger(api, {"type": "email_assignee", "text": "Urgent."})
    case = await _urgent_case(api, assignee_id=str(uuid.uuid4()))
    down = WebhookReceiver(*[(503, {})] * 3)
    async with serve_http(down, lifespan="off") as url:
        directory = StaffDirectory(url, settings.internal_secret)
        dispatcher = NotificationDispatcher(db, services.notifications, directory)
        assert await dispatcher.run_once() == 1
        [waiting] = await _notifications(api, case["id"])
        assert waiting["status"] == "pending"
        assert waiting["attempts"] == 1
        assert waiting["last_error"].startswith("routing answered 503")
        assert await dispatcher.run_once() == 0, "not before its backoff (at least half of 60 s)"
        await clock.advance(61)
        assert await dispatcher.run_once() == 1
        await clock.advance(121)
        assert await dispatcher.run_once() == 1
        await directory.aclose()
    [failed] = await _notifications(api, case["id"])
    assert (failed["status"], failed["attempts"]) == ("failed", 3)
    assert failed["last_error"].startswith("routing answered 503")
    assert len(down.requests) == 3
    # Signed as case-core, read-only: routing can tell who asks.
    assert all("x-omnicase-identity" in headers for headers, _ in down.requests)


async def test_a_dry_run_records_no_notification(api: httpx.AsyncClient) -> None:
    await _trigger(api, {"type": "email_assignee", "text": "Urgent."})
    created = await api.post(
        "/api/v1/cases",
        json={"subject": "Quiet", "requester": {"email": "dry@customer.example"}, "assignee_id": str(uuid.uuid4())},
    )
    case = created.json()
    run = await api.post("/api/v1/triggers/dry-run", json={"case_id": case["id"], "changes": {"priority": "urgent"}})
    assert run.status_code == 200, run.text
    assert len(run.json()["fired"]) == 1
    assert await _notifications(api, case["id"]) == []


@pytest.mark.parametrize(
    ("action", "field"),
    [
        ({"type": "email_group", "text": "Hi", "subject": "{{case.secret}}"}, "subject"),
        ({"type": "email_assignee", "text": "Hi {{agent.password}}"}, "text"),
        ({"type": "email_group", "text": "Hi", "group_id": "tier-2"}, "group_id"),
        ({"type": "email_assignee", "text": ""}, "text"),
    ],
)
async def test_bad_staff_email_actions_are_refused_per_field(
    api: httpx.AsyncClient, action: dict[str, Any], field: str
) -> None:
    before = (await api.get("/api/v1/triggers")).json()["items"]
    response = await api.post(
        "/api/v1/triggers",
        json={
            "name": "Bad",
            "conditions": {"all": [{"field": "status", "operator": "is", "value": "new"}]},
            "actions": [action],
        },
    )
    assert response.status_code == 422, response.text
    fields = [error["field"] for error in response.json()["errors"]]
    assert any(name.startswith("body.actions.0") and name.endswith(field) for name in fields), fields
    assert (await api.get("/api/v1/triggers")).json()["items"] == before


async def test_notifications_of_an_unknown_case_are_a_404(api: httpx.AsyncClient) -> None:
    response = await api.get(f"/api/v1/cases/{uuid.uuid4()}/notifications")
    assert response.status_code == 404


async def test_the_running_service_resolves_and_hands_over_a_notification_through_the_broker(
    service_settings: Any, routing: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    agent = await _agent(routing, "Ada Lovelace", "ada@support.example", [])
    settings = service_settings(
        CaseCoreSettings,
        routing_url=str(routing.base_url),
        notification_poll_seconds=0.1,
        webhook_notify_email="ops@omnicase.test",
    )
    app = create_app(settings)
    async with running(app) as client:
        client.headers.update(identity_headers(settings.internal_secret, role="admin"))
        # This app commits for real, and a trigger is global: it is removed, pass or fail.
        rule = await _trigger(client, {"type": "email_assignee", "text": "Case {{case.number}} is urgent."})
        try:
            case = await _urgent_case(client, assignee_id=agent)

            async def requested() -> bool:
                items = await _notifications(client, case["id"])
                return bool(items) and items[0]["status"] == "requested"

            await eventually(requested, message="notification resolved and handed over")
        finally:
            assert (await client.delete(f"/api/v1/triggers/{rule['id']}")).status_code == 204
    topic = physical(Topic.OUTBOUND_MESSAGES, settings.topic_prefix)
    records = await read_topic(kafka_bootstrap, topic, expect=1, within=10)
    [(key, notification)] = [
        (record.key, json.loads(record.value))
        for record in records
        if json.loads(record.value)["type"] == "outbound.notification_requested"
    ]
    assert key == case["id"].encode(), "keyed by the case, like everything about it"
    assert notification["data"]["to"][0]["email"] == "ada@support.example"
    assert notification["data"]["text"].startswith(f"Case {case['number']} is urgent.\n\n[ref:oc-")


async def _requested(
    api: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    dispatcher: NotificationDispatcher,
    *,
    new_trigger: bool = True,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A case whose trigger email to its assignee was handed to the email intake: (case, notification)."""
    agent = await _agent(routing, "Ada Lovelace", "ada@support.example", [])
    if new_trigger:
        await _trigger(api, {"type": "email_assignee", "text": "Grace needs you."})
    case = await _urgent_case(api, assignee_id=agent)
    assert await dispatcher.run_once() == 1
    [notification] = await _notifications(api, case["id"])
    assert notification["status"] == "requested"
    return case, notification


async def test_an_agents_emailed_answer_to_a_notification_threads_into_the_case(
    api: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    published: Published,
    deliver: Deliver,
    dispatcher: NotificationDispatcher,
) -> None:
    case, notification = await _requested(api, routing, dispatcher)
    [email] = [data for kind, data in await published(case["id"]) if kind == "outbound.notification_requested"]
    quoted = "\n".join(f"> {line}" for line in email["text"].splitlines())
    # Another subject, another sender than the requester: only the quoted marker can tie it to the case.
    answer = inbound_email(
        "ada@support.example",
        subject="Re: on it",
        text=f"I called her back.\n\n{quoted}",
        in_reply_to=[f"{notification['id']}@omnicase.example"],
    )
    await deliver(answer)
    messages = (await api.get(f"/api/v1/cases/{case['id']}/messages")).json()["items"]
    assert any("I called her back." in message["text"] for message in messages)


async def test_a_notification_whose_send_report_never_comes_fails_after_the_timeout(
    api: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    services: Services,
    settings: CaseCoreSettings,
    deliver: Deliver,
    clock: ManualClock,
    dispatcher: NotificationDispatcher,
) -> None:
    _as_admin_with(api, services, settings, notification_report_timeout_seconds=600.0)
    case, _ = await _requested(api, routing, dispatcher)

    await clock.advance(599)
    await dispatcher.housekeep()
    [waiting] = await _notifications(api, case["id"])
    assert waiting["status"] == "requested", "not before the timeout"

    await clock.advance(2)
    await dispatcher.housekeep()
    [lost] = await _notifications(api, case["id"])
    assert lost["status"] == "failed"
    assert lost["last_error"].startswith("no send report from the email intake within 600 s")

    # The intake's word, should it still come, is the truth.
    await deliver(NotificationReported(notification_id=uuid.UUID(lost["id"]), status="sent"))
    [late] = await _notifications(api, case["id"])
    assert late["status"] == "sent"


async def test_settled_notifications_are_deleted_after_the_retention_and_newer_ones_kept(
    api: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    services: Services,
    settings: CaseCoreSettings,
    deliver: Deliver,
    clock: ManualClock,
    dispatcher: NotificationDispatcher,
) -> None:
    _as_admin_with(api, services, settings, notification_retention_days=30)
    old_case, old = await _requested(api, routing, dispatcher)
    await deliver(NotificationReported(notification_id=uuid.UUID(old["id"]), status="sent"))

    await clock.advance(timedelta(days=29).total_seconds())
    new_case, new = await _requested(api, routing, dispatcher, new_trigger=False)
    await deliver(NotificationReported(notification_id=uuid.UUID(new["id"]), status="sent"))
    await dispatcher.housekeep()
    assert len(await _notifications(api, old_case["id"])) == 1, "29 days old: kept"

    await clock.advance(timedelta(days=1, seconds=1).total_seconds())
    await dispatcher.housekeep()
    assert await _notifications(api, old_case["id"]) == []
    assert [n["id"] for n in await _notifications(api, new_case["id"])] == [new["id"]]
