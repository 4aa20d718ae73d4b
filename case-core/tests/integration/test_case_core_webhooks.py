"""Outbound webhooks: subscriptions and their validation, the SSRF guard, signed delivery to a
receiver the test starts, retries, Retry-After, 410, automatic disable, the log, redelivery."""

from __future__ import annotations

import ipaddress
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import select

from omnicase.case_core.app import create_app
from omnicase.case_core.cases.service import Satisfaction
from omnicase.case_core.directory import StaffDirectory
from omnicase.case_core.identity import Actor
from omnicase.case_core.models import outbox
from omnicase.case_core.notifications.dispatcher import NotificationDispatcher
from omnicase.case_core.notifications.repository import NotificationRepository, NotificationRow
from omnicase.case_core.settings import CaseCoreSettings
from omnicase.case_core.testing import STAFF_SCOPES, WebhookReceiver, identity_headers
from omnicase.case_core.webhooks.dispatcher import WebhookDispatcher, http_client
from omnicase.case_core.webhooks.models import webhook_subscriptions
from omnicase.case_core.webhooks.repository import SubscriptionRow
from omnicase.case_core.webhooks.schemas import WebhookCreate
from omnicase.case_core.webhooks.service import WebhookService
from omnicase.case_core.webhooks.signing import verify
from omnicase.devtools.testing.apps import GatewayIdentity
from omnicase.devtools.testing.clock import ManualClock
from omnicase.devtools.testing.servers import serve_http
from omnicase.kit import ssrf
from omnicase.kit.clock import utcnow
from omnicase.kit.db import Database
from omnicase.kit.events import Envelope

pytestmark = pytest.mark.asyncio

Dispatch = Callable[[], Awaitable[int]]
Flush = Callable[[], Awaitable[int]]


@pytest.fixture
def api(api: httpx.AsyncClient, settings: CaseCoreSettings) -> httpx.AsyncClient:
    """The admin client, its identity signed afresh per request (tests move the clock by hours)."""
    api.auth = GatewayIdentity(settings.internal_secret, role="admin", scopes=STAFF_SCOPES)
    return api


@pytest.fixture
def webhook_settings(settings: CaseCoreSettings) -> CaseCoreSettings:
    return settings.model_copy(
        update={
            "webhook_max_attempts": 3,
            "webhook_retry_base_seconds": 10.0,
            "webhook_retry_max_seconds": 60.0,
            "webhook_retry_after_max_seconds": 600.0,
            "webhook_disable_after_failures": 4,
            "webhook_disable_after_seconds": 3600.0,
        }
    )


@pytest.fixture
def webhooks(webhook_settings: CaseCoreSettings) -> WebhookService:
    return WebhookService(webhook_settings)


@pytest_asyncio.fixture
async def dispatch(db: Database, webhooks: WebhookService) -> AsyncIterator[Dispatch]:
    """One round of the background dispatcher, on demand."""
    async with http_client(webhooks.settings) as client:
        yield WebhookDispatcher(db, webhooks, client).run_once


@pytest_asyncio.fixture
async def flush_events(db: Database, webhooks: WebhookService) -> Flush:
    """Hand every event case-core stages from now on to the webhook fan-out, as its consumer would."""
    async with db.unit_of_work() as session:
        # Earlier app tests committed events for real; they are not this test's.
        seen: set[int] = set((await session.scalars(select(outbox.c.id))).all())

    async def run() -> int:
        async with db.unit_of_work() as session:
            rows = (await session.execute(select(outbox.c.id, outbox.c.payload).order_by(outbox.c.id))).all()
        fresh = [Envelope.from_bytes(payload) for row_id, payload in rows if row_id not in seen]
        seen.update(row_id for row_id, _ in rows)
        async with db.unit_of_work() as session:
            return await webhooks.fan_out(session, fresh)

    return run


async def _allow_loopback(api: httpx.AsyncClient) -> None:
    response = await api.post("/api/v1/webhooks/allowed-networks", json={"network": "127.0.0.0/8", "note": "tests"})
    assert response.status_code == 201, response.text


async def _subscribe(api: httpx.AsyncClient, url: str, *event_types: str) -> dict[str, Any]:
    response = await api.post(
        "/api/v1/webhooks", json={"url": url, "event_types": list(event_types) or ["case.created"]}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@asynccontextmanager
async def _subscribed(
    api: httpx.AsyncClient, receiver: WebhookReceiver, *event_types: str
) -> AsyncIterator[dict[str, Any]]:
    """A subscription of ``event_types`` (``case.created`` by default) delivering to ``receiver``, served
    on loopback (allow-listed) while the block runs."""
    async with serve_http(receiver, lifespan="off") as url:
        await _allow_loopback(api)
        yield await _subscribe(api, f"{url}/hooks", *event_types)


async def _open_case(api: httpx.AsyncClient, subject: str = "Printer on fire") -> dict[str, Any]:
    response = await api.post(
        "/api/v1/cases",
        json={
            "subject": subject,
            "description": "It smokes.",
            "requester": {"email": f"{uuid.uuid4().hex[:8]}@customer.example"},
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _deliveries(api: httpx.AsyncClient, webhook_id: str) -> list[dict[str, Any]]:
    response = await api.get(f"/api/v1/webhooks/{webhook_id}/deliveries")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _detail(api: httpx.AsyncClient, webhook_id: str, delivery_id: str) -> dict[str, Any]:
    response = await api.get(f"/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _disable_notices(db: Database, webhook_id: str) -> list[NotificationRow]:
    async with db.unit_of_work() as session:
        return await NotificationRepository(session).of_subscription(uuid.UUID(webhook_id))


# --- subscriptions


async def test_only_admins_manage_webhooks(api: httpx.AsyncClient, agent: dict[str, str]) -> None:
    for method, path in [
        ("GET", "/api/v1/webhooks"),
        ("POST", "/api/v1/webhooks"),
        ("GET", "/api/v1/webhooks/allowed-networks"),
    ]:
        response = await api.request(method, path, headers=agent, json={}, auth=None)
        assert response.status_code == 403, (method, path)
        assert response.headers["content-type"].startswith("application/problem+json")
    anonymous = await api.get("/api/v1/webhooks", headers={"X-Omnicase-Identity": ""}, auth=None)
    assert anonymous.status_code == 401


async def test_bad_subscriptions_get_per_field_problems_and_create_nothing(api: httpx.AsyncClient) -> None:
    cases = [
        ({"url": "ftp://hooks.example.com/x", "event_types": ["case.created"]}, "body.url"),
        ({"url": "not a url", "event_types": ["case.created"]}, "body.url"),
        ({"url": "https://hooks.example.com/x", "event_types": []}, "body.event_types"),
        ({"url": "https://hooks.example.com/x", "event_types": ["case.exploded"]}, "body.event_types.0"),
        ({"url": "https://hooks.example.com/x", "event_types": ["case.created"], "secret": "mine"}, "body.secret"),
    ]
    for body, field in cases:
        response = await api.post("/api/v1/webhooks", json=body)
        assert response.status_code == 422, body
        assert field in [error["field"] for error in response.json()["errors"]], response.json()
    assert (await api.get("/api/v1/webhooks")).json()["items"] == []


async def test_internal_addresses_are_refused_until_an_admin_allow_lists_them(api: httpx.AsyncClient) -> None:
    for url in [
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "http://10.0.0.7/",
    ]:
        # Refused as the allow-list stands now: a 409 naming the field.
        response = await api.post("/api/v1/webhooks", json={"url": url, "event_types": ["case.created"]})
        assert response.status_code == 409, url
        assert response.json()["type"].endswith("/webhook-address-not-allowed")
        assert response.json()["errors"][0] == {
            "field": "body.url",
            "message": response.json()["errors"][0]["message"],
            "code": "blocked_address",
        }
    await _allow_loopback(api)
    created = await _subscribe(api, "http://127.0.0.1:9/hook")
    assert created["secret"].startswith("whsec_")
    assert created["active"] is True
    # Still refused: only the allow-listed network was opened.
    response = await api.post("/api/v1/webhooks", json={"url": "http://10.0.0.7/", "event_types": ["case.created"]})
    assert response.status_code == 409


async def test_a_host_that_does_not_resolve_is_a_404_naming_the_url(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/api/v1/webhooks", json={"url": "https://nowhere.invalid/hook", "event_types": ["case.created"]}
    )
    assert response.status_code == 404
    assert response.json()["type"].endswith("/unknown-reference")
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("body.url", "not_found")]
    assert (await api.get("/api/v1/webhooks")).json()["items"] == []


async def test_allowed_networks_are_validated_unique_and_removable(api: httpx.AsyncClient) -> None:
    bad = await api.post("/api/v1/webhooks/allowed-networks", json={"network": "10.0.0.300/8"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "body.network"
    await _allow_loopback(api)
    again = await api.post("/api/v1/webhooks/allowed-networks", json={"network": "127.0.0.0/8"})
    assert again.status_code == 409
    listed = (await api.get("/api/v1/webhooks/allowed-networks")).json()["items"]
    assert [item["network"] for item in listed] == ["127.0.0.0/8"]
    assert listed[0]["created_by"] == "user:test-admin" or listed[0]["created_by"].startswith("user:")
    deleted = await api.delete(f"/api/v1/webhooks/allowed-networks/{listed[0]['id']}")
    assert deleted.status_code == 204
    gone = await api.delete(f"/api/v1/webhooks/allowed-networks/{listed[0]['id']}")
    assert gone.status_code == 404
    refused = await api.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/", "event_types": ["case.created"]})
    assert refused.status_code == 409


async def test_subscriptions_are_listed_changed_and_deleted(api: httpx.AsyncClient) -> None:
    await _allow_loopback(api)
    first = await _subscribe(api, "http://127.0.0.1:9/a")
    second = await _subscribe(api, "http://127.0.0.1:9/b", "case.solved", "sla.breached", "case.solved")
    assert second["event_types"] == ["case.solved", "sla.breached"]
    page = (await api.get("/api/v1/webhooks", params={"limit": 1})).json()
    assert [item["id"] for item in page["items"]] == [first["id"]]
    assert "secret" not in page["items"][0]
    rest = (await api.get("/api/v1/webhooks", params={"cursor": page["next_cursor"]})).json()
    assert [item["id"] for item in rest["items"]] == [second["id"]]
    assert rest["next_cursor"] is None
    assert "secret" not in (await api.get(f"/api/v1/webhooks/{first['id']}")).json()
    changed = await api.patch(
        f"/api/v1/webhooks/{first['id']}", json={"event_types": ["case.updated"], "description": "CRM"}
    )
    assert changed.status_code == 200
    assert changed.json()["event_types"] == ["case.updated"]
    assert changed.json()["description"] == "CRM"
    blocked = await api.patch(f"/api/v1/webhooks/{first['id']}", json={"url": "http://192.168.0.1/"})
    assert blocked.status_code == 409
    assert (await api.get(f"/api/v1/webhooks/{first['id']}")).json()["url"] == "http://127.0.0.1:9/a"
    assert (await api.delete(f"/api/v1/webhooks/{first['id']}")).status_code == 204
    missing = await api.get(f"/api/v1/webhooks/{first['id']}")
    assert missing.status_code == 404
    assert missing.json()["type"].endswith("webhook-not-found")


# --- delivery


async def test_case_created_is_delivered_signed_to_the_receiver(
    api: httpx.AsyncClient, flush_events: Flush, dispatch: Dispatch
) -> None:
    receiver = WebhookReceiver()
    async with serve_http(receiver, lifespan="off") as url:
        await _allow_loopback(api)
        hook = await _subscribe(api, f"{url}/hooks", "case.created")
        other = await _subscribe(api, f"{url}/other", "case.solved")
        case = await _open_case(api)
        assert await flush_events() == 1
        assert await dispatch() == 1
    [(headers, body)] = receiver.requests
    assert verify(hook["secret"], headers, body), "the receiver can verify the signature"
    assert not verify(other["secret"], headers, body)
    payload = json.loads(body)
    assert payload["type"] == "case.created"
    assert payload["data"]["case"]["case_id"] == case["id"]
    assert payload["data"]["case"]["subject"] == "Printer on fire"
    assert abs(int(headers["webhook-timestamp"]) - utcnow().timestamp()) < 60
    [delivery] = await _deliveries(api, hook["id"])
    assert delivery["id"] == headers["webhook-id"]
    assert delivery["status"] == "succeeded"
    assert delivery["last_status_code"] == 200
    assert delivery["delivered_at"] is not None
    detail = await _detail(api, hook["id"], delivery["id"])
    assert [(a["status_code"], a["error"], a["response_body"]) for a in detail["attempt_log"]] == [(200, None, "ok")]
    assert await _deliveries(api, other["id"]) == []


async def test_solving_a_case_notifies_case_solved_subscribers(
    api: httpx.AsyncClient, flush_events: Flush, dispatch: Dispatch
) -> None:
    receiver = WebhookReceiver()
    async with _subscribed(api, receiver, "case.solved") as hook:
        case = await _open_case(api)
        priority = await api.patch(
            f"/api/v1/cases/{case['id']}", json={"priority": "high"}, headers={"If-Match": '"1"'}
        )
        assert priority.status_code == 200, priority.text
        solved = await api.patch(f"/api/v1/cases/{case['id']}", json={"status": "solved"}, headers={"If-Match": '"2"'})
        assert solved.status_code == 200, solved.text
        await flush_events()
        assert await dispatch() == 1
    [(_, body)] = receiver.requests
    payload = json.loads(body)
    assert payload["type"] == "case.solved"
    assert payload["data"]["changes"]["status"]["new"] == "solved"
    assert [d["event_type"] for d in await _deliveries(api, hook["id"])] == ["case.solved"]


async def test_a_satisfaction_rating_is_delivered_to_its_subscribers(
    api: httpx.AsyncClient, app: FastAPI, db: Database, flush_events: Flush, dispatch: Dispatch
) -> None:
    receiver = WebhookReceiver()
    async with _subscribed(api, receiver, "case.satisfaction_rated") as hook:
        case = await _open_case(api)
        survey_id = uuid.uuid4()
        async with db.unit_of_work() as session:
            rating = Satisfaction(rating="bad", reason="Too slow", comment=None, rated_at=utcnow(), survey_id=survey_id)
            await app.state.services.cases.rate(session, uuid.UUID(case["id"]), rating, Actor("contact:x", "csat"))
        await flush_events()
        assert await dispatch() == 1
    [(_, body)] = receiver.requests
    payload = json.loads(body)
    assert payload["type"] == "case.satisfaction_rated"
    assert (payload["data"]["rating"], payload["data"]["reason"]) == ("bad", "Too slow")
    assert payload["data"]["survey_id"] == str(survey_id)
    assert [d["event_type"] for d in await _deliveries(api, hook["id"])] == ["case.satisfaction_rated"]


async def test_a_429_waits_as_long_as_retry_after_asks_then_delivers(
    api: httpx.AsyncClient, flush_events: Flush, dispatch: Dispatch, clock: ManualClock
) -> None:
    receiver = WebhookReceiver((429, {"Retry-After": "300"}))
    async with _subscribed(api, receiver) as hook:
        await _open_case(api)
        await flush_events()
        assert await dispatch() == 1
        [delivery] = await _deliveries(api, hook["id"])
        assert delivery["status"] == "pending"
        assert delivery["last_status_code"] == 429
        # Backoff alone would retry within 10 s; the receiver asked for 300.
        await clock.advance(299)
        assert await dispatch() == 0
        await clock.advance(2)
        assert await dispatch() == 1
    first, second = receiver.requests
    assert first[0]["webhook-id"] == second[0]["webhook-id"], "retries keep the message id"
    [delivery] = await _deliveries(api, hook["id"])
    assert delivery["status"] == "succeeded"
    assert delivery["attempts"] == 2


async def test_failures_back_off_exponentially_and_give_up_after_the_attempt_budget(
    api: httpx.AsyncClient, flush_events: Flush, dispatch: Dispatch, clock: ManualClock
) -> None:
    receiver = WebhookReceiver(*[(500, {})] * 10)
    async with _subscribed(api, receiver) as hook:
        await _open_case(api)
        await flush_events()
        waits = []
        for _ in range(3):
            before = utcnow()
            assert await dispatch() == 1
            [delivery] = await _deliveries(api, hook["id"])
            if delivery["status"] == "pending":
                due = (await _detail(api, hook["id"], delivery["id"]))["next_attempt_at"]
                wait = (datetime.fromisoformat(due) - before).total_seconds()
                waits.append(wait)
                await clock.advance(wait)
        assert await dispatch() == 0
    # base 10 s: first retry within [5, 10], second within [10, 20]; then the budget of 3 is spent.
    assert 5 <= waits[0] <= 10
    assert 10 <= waits[1] <= 20
    [delivery] = await _deliveries(api, hook["id"])
    assert delivery["status"] == "failed"
    assert delivery["next_attempt_at"] is None
    detail = await _detail(api, hook["id"], delivery["id"])
    assert [a["status_code"] for a in detail["attempt_log"]] == [500, 500, 500]
    assert detail["attempt_log"][0]["error"] == "HTTP 500"
    failed = (await api.get(f"/api/v1/webhooks/{hook['id']}/deliveries", params={"status": "failed"})).json()["items"]
    assert [d["id"] for d in failed] == [delivery["id"]]
    assert (await api.get(f"/api/v1/webhooks/{hook['id']}/deliveries", params={"status": "succeeded"})).json()[
        "items"
    ] == []


async def test_410_gone_disables_the_subscription(
    api: httpx.AsyncClient, flush_events: Flush, dispatch: Dispatch
) -> None:
    receiver = WebhookReceiver((410, {}))
    async with _subscribed(api, receiver) as hook:
        await _open_case(api)
        await flush_events()
        assert await dispatch() == 1
        state = (await api.get(f"/api/v1/webhooks/{hook['id']}")).json()
        assert state["active"] is False
        assert "410" in state["disabled_reason"]
        [delivery] = await _deliveries(api, hook["id"])
        assert delivery["status"] == "failed"
        await _open_case(api, "Another one")
        assert await flush_events() == 0, "a disabled subscription gets no new deliveries"
        assert await dispatch() == 0
    assert len(receiver.requests) == 1


async def test_sustained_failure_disables_the_subscription_and_re_enabling_resumes(
    api: httpx.AsyncClient, flush_events: Flush, dispatch: Dispatch, clock: ManualClock, db: Database
) -> None:
    receiver = WebhookReceiver(*[(503, {})] * 9)
    async with _subscribed(api, receiver) as hook:
        for n in range(3):
            await _open_case(api, f"case {n}")
        await flush_events()
        assert await dispatch() == 3
        await clock.advance(20)
        assert await dispatch() == 3
        # Six failures in a row, but for 20 seconds only: the rule is 4 failures AND an hour.
        state = (await api.get(f"/api/v1/webhooks/{hook['id']}")).json()
        assert state["consecutive_failures"] == 6
        assert state["active"] is True
        await clock.advance(3600)
        assert await dispatch() == 3
        state = (await api.get(f"/api/v1/webhooks/{hook['id']}")).json()
        assert state["active"] is False
        # Disabled by the 7th failure, the first meeting both; the batch's other two were already on their way.
        assert "7 failed attempts in a row" in state["disabled_reason"]
        [notice] = await _disable_notices(db, hook["id"])
        assert notice.recipient_email == "ops@omnicase.test", "the operator's default: the hook named nobody"
        assert "7 failed attempts in a row" in notice.text
        await _open_case(api, "while disabled")
        assert await flush_events() == 0, "a disabled subscription gets no new deliveries"
        enabled = await api.patch(f"/api/v1/webhooks/{hook['id']}", json={"active": True})
        assert enabled.json()["active"] is True
        assert enabled.json()["consecutive_failures"] == 0
        assert enabled.json()["disabled_reason"] is None
        deliveries = await _deliveries(api, hook["id"])
        assert [d["status"] for d in deliveries] == ["failed"] * 3
        queued = await api.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{deliveries[0]['id']}/redeliver")
        assert queued.status_code == 202
        assert await dispatch() == 1
    assert len(receiver.requests) == 10
    assert sorted(d["status"] for d in await _deliveries(api, hook["id"])) == ["failed", "failed", "succeeded"]


async def test_a_receiver_moved_into_a_private_network_is_not_called(
    api: httpx.AsyncClient, flush_events: Flush, dispatch: Dispatch
) -> None:
    receiver = WebhookReceiver()
    async with _subscribed(api, receiver) as hook:
        [network] = (await api.get("/api/v1/webhooks/allowed-networks")).json()["items"]
        await api.delete(f"/api/v1/webhooks/allowed-networks/{network['id']}")
        await _open_case(api)
        await flush_events()
        assert await dispatch() == 1
    assert receiver.requests == []
    [delivery] = await _deliveries(api, hook["id"])
    assert delivery["status"] == "failed"
    assert "internal address" in delivery["last_error"]


async def test_a_failed_delivery_can_be_redelivered_with_the_same_message_id(
    api: httpx.AsyncClient, flush_events: Flush, dispatch: Dispatch
) -> None:
    receiver = WebhookReceiver((410, {}))
    async with _subscribed(api, receiver) as hook:
        await _open_case(api)
        await flush_events()
        await dispatch()
        [delivery] = await _deliveries(api, hook["id"])
        assert delivery["status"] == "failed"
        await api.patch(f"/api/v1/webhooks/{hook['id']}", json={"active": True})
        queued = await api.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{delivery['id']}/redeliver")
        assert queued.status_code == 202
        assert queued.json()["status"] == "pending"
        twice = await api.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{delivery['id']}/redeliver")
        assert twice.status_code == 409, "not attempted yet: a second request changes nothing"
        assert await dispatch() == 1
        missing = await api.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{uuid.uuid4()}/redeliver")
        assert missing.status_code == 404
    first, second = receiver.requests
    assert first[0]["webhook-id"] == second[0]["webhook-id"] == delivery["id"]
    assert first[1] == second[1]
    detail = await _detail(api, hook["id"], delivery["id"])
    assert detail["status"] == "succeeded"
    assert [a["status_code"] for a in detail["attempt_log"]] == [410, 200]


async def test_the_running_service_delivers_case_events_through_the_broker(
    service_settings: Any, database_url: str
) -> None:
    from omnicase.case_core.app import create_app
    from omnicase.devtools.testing.apps import running
    from omnicase.devtools.testing.plugin import eventually

    settings = service_settings(CaseCoreSettings, webhook_poll_seconds=0.1, webhook_notify_email="ops@omnicase.test")
    receiver = WebhookReceiver()
    async with serve_http(receiver, lifespan="off") as url:
        app = create_app(settings)
        async with running(app) as client:
            admin = identity_headers(settings.internal_secret, role="admin")
            client.headers.update(admin)
            # This app commits for real: whatever the test adds, it removes, pass or fail.
            allowed = await client.post("/api/v1/webhooks/allowed-networks", json={"network": "127.0.0.1/32"})
            assert allowed.status_code == 201, allowed.text
            hook: dict[str, Any] = {}
            try:
                hook = await _subscribe(client, f"{url}/hooks", "case.created")
                case = await _open_case(client)

                async def delivered() -> bool:
                    return any(
                        json.loads(body)["data"]["case"]["case_id"] == case["id"] for _, body in receiver.requests
                    )

                await eventually(delivered, within=30, message="case.created delivered")
            finally:
                if hook:
                    await client.delete(f"/api/v1/webhooks/{hook['id']}")
                await client.delete(f"/api/v1/webhooks/allowed-networks/{allowed.json()['id']}")
    headers, body = receiver.requests[0]
    assert verify(hook["secret"], headers, body)


async def test_a_signing_secret_is_shown_once_and_kept_sealed(
    api: httpx.AsyncClient, db: Database, dispatch: Dispatch
) -> None:
    receiver = WebhookReceiver()
    async with _subscribed(api, receiver) as hook:
        assert (await api.get(f"/api/v1/webhooks/{hook['id']}/secret")).status_code == 404, "no way to read it again"
        rotated = (await api.post(f"/api/v1/webhooks/{hook['id']}/secret/rotate")).json()["secret"]
        async with db.unit_of_work() as session:
            stored = (await session.execute(_secrets_of(hook["id"]))).one()
        # What a database dump shows: sealed tokens, neither secret.
        assert stored.secret.startswith("omnicase:v1:")
        assert stored.previous_secret.startswith("omnicase:v1:")
        assert rotated not in stored.secret
        assert hook["secret"] not in stored.previous_secret
        await api.post(f"/api/v1/webhooks/{hook['id']}/test")
        assert await dispatch() == 1
    [(headers, body)] = receiver.requests
    assert verify(rotated, headers, body), "the dispatcher opens the sealed secret to sign"
    assert verify(hook["secret"], headers, body), "and the previous one, during the grace period"


async def test_secrets_stored_before_sealing_still_sign_and_the_reseal_pass_seals_them(
    api: httpx.AsyncClient, db: Database, webhooks: WebhookService, dispatch: Dispatch
) -> None:
    receiver = WebhookReceiver()
    async with _subscribed(api, receiver) as hook:
        async with db.unit_of_work() as session:
            # As a row written before this version: the plain secret in the column.
            await session.execute(
                webhook_subscriptions.update()
                .where(webhook_subscriptions.c.id == uuid.UUID(hook["id"]))
                .values(secret=hook["secret"])
            )
        await api.post(f"/api/v1/webhooks/{hook['id']}/test")
        assert await dispatch() == 1
        async with db.unit_of_work() as session:
            assert await webhooks.secrets.reseal(session) >= 1
        async with db.unit_of_work() as session:
            stored = (await session.execute(_secrets_of(hook["id"]))).one()
            assert await webhooks.secrets.reseal(session) == 0, "nothing is left to seal"
        assert stored.secret.startswith("omnicase:v1:")
        assert hook["secret"] not in stored.secret
        await api.post(f"/api/v1/webhooks/{hook['id']}/test")
        assert await dispatch() == 1
    before, after = receiver.requests
    assert verify(hook["secret"], *before), "signed with the plain secret as stored"
    assert verify(hook["secret"], *after), "and with it opened from its sealed token: receivers notice nothing"


def _secrets_of(hook_id: str) -> Any:
    return select(webhook_subscriptions.c.secret, webhook_subscriptions.c.previous_secret).where(
        webhook_subscriptions.c.id == uuid.UUID(hook_id)
    )


async def test_a_test_event_lets_an_integrator_check_their_endpoint(api: httpx.AsyncClient, dispatch: Dispatch) -> None:
    receiver = WebhookReceiver()
    async with _subscribed(api, receiver) as hook:
        queued = await api.post(f"/api/v1/webhooks/{hook['id']}/test")
        assert queued.status_code == 202, queued.text
        assert queued.json()["event_type"] == "webhook.test"
        assert await dispatch() == 1
        await api.patch(f"/api/v1/webhooks/{hook['id']}", json={"active": False})
        refused = await api.post(f"/api/v1/webhooks/{hook['id']}/test")
        assert refused.status_code == 409
        assert (await api.post(f"/api/v1/webhooks/{uuid.uuid4()}/test")).status_code == 404
    [(headers, body)] = receiver.requests
    assert verify(hook["secret"], headers, body)
    assert json.loads(body)["type"] == "webhook.test"
    assert headers["webhook-id"] == queued.json()["id"]


async def test_a_rotated_secret_signs_beside_the_old_one_until_the_grace_period_ends(
    api: httpx.AsyncClient, dispatch: Dispatch, clock: ManualClock
) -> None:
    receiver = WebhookReceiver()
    async with _subscribed(api, receiver) as hook:
        rotated = await api.post(f"/api/v1/webhooks/{hook['id']}/secret/rotate")
        assert rotated.status_code == 200, rotated.text
        new_secret = rotated.json()["secret"]
        assert new_secret != hook["secret"]
        await api.post(f"/api/v1/webhooks/{hook['id']}/test")
        assert await dispatch() == 1
        await clock.advance(24 * 3600 + 1)
        await api.post(f"/api/v1/webhooks/{hook['id']}/test")
        assert await dispatch() == 1
    (during_headers, during_body), (after_headers, after_body) = receiver.requests
    assert verify(hook["secret"], during_headers, during_body), "receivers on the old secret keep working"
    assert verify(new_secret, during_headers, during_body)
    assert verify(new_secret, after_headers, after_body)
    assert not verify(hook["secret"], after_headers, after_body), "the old secret stops once the grace ends"


async def test_the_delivery_log_forgets_settled_deliveries_after_the_retention_period(
    api: httpx.AsyncClient, db: Database, webhooks: WebhookService, flush_events: Flush, clock: ManualClock
) -> None:
    receiver = WebhookReceiver()
    async with serve_http(receiver, lifespan="off") as url, http_client(webhooks.settings) as client:
        dispatcher = WebhookDispatcher(db, webhooks, client)
        await _allow_loopback(api)
        hook = await _subscribe(api, f"{url}/hooks")
        await _open_case(api, "delivered")
        await flush_events()
        assert await dispatcher.run_once() == 1
        await clock.advance(29 * 24 * 3600)
        assert await dispatcher.prune() == 0
        await _open_case(api, "still queued")
        await flush_events()
        await clock.advance(2 * 24 * 3600)
        assert await dispatcher.prune() == 1
    [left] = await _deliveries(api, hook["id"])
    assert left["status"] == "pending", "a delivery still due is never pruned"


async def test_a_disabled_subscription_emails_its_owner_and_tells_webhook_disabled_subscribers(
    api: httpx.AsyncClient, flush_events: Flush, dispatch: Dispatch, db: Database, webhooks: WebhookService
) -> None:
    failing, monitor = WebhookReceiver((410, {})), WebhookReceiver()
    async with serve_http(failing, lifespan="off") as url, serve_http(monitor, lifespan="off") as monitor_url:
        await _allow_loopback(api)
        created = await api.post(
            "/api/v1/webhooks",
            json={"url": f"{url}/crm", "event_types": ["case.created"], "notify_email": "crm-owner@example.com"},
        )
        assert created.status_code == 201, created.text
        hook = created.json()
        assert hook["notify_email"] == "crm-owner@example.com"
        watcher = await _subscribe(api, f"{monitor_url}/ops", "webhook.disabled")
        await _open_case(api)
        await flush_events()
        assert await dispatch() == 1
        [notice] = await _disable_notices(db, hook["id"])
        assert (notice.status, notice.recipient_email) == ("pending", "crm-owner@example.com")
        assert notice.reason == f"webhook_disabled:{hook['id']}"
        # The email goes out through the same path as every staff notification (no routing needed).
        unused = StaffDirectory("http://127.0.0.1:9", "unused-secret-0123456789")
        assert await NotificationDispatcher(db, webhooks.notifications, unused).run_once() == 1
        async with db.unit_of_work() as session:
            payloads = (await session.scalars(select(outbox.c.payload).where(outbox.c.key == str(notice.id)))).all()
        [requested] = [Envelope.from_bytes(payload) for payload in payloads]
        assert requested.type == "outbound.notification_requested"
        assert requested.data["to"][0]["email"] == "crm-owner@example.com"
        assert requested.data["subject"] == f"Webhook disabled: {url}/crm"
        assert "410 Gone" in requested.data["text"]
        # Integrators watching for it hear of it too, signed like any delivery.
        assert await dispatch() == 1
        [(headers, body)] = monitor.requests
        event = json.loads(body)
        assert event["type"] == "webhook.disabled"
        assert event["data"]["webhook_id"] == hook["id"]
        assert "410" in event["data"]["reason"]
        assert headers["webhook-signature"].startswith("v1,")
    assert [d["event_type"] for d in await _deliveries(api, watcher["id"])] == ["webhook.disabled"]


async def test_notify_email_is_required_without_an_operator_default_and_is_validated(
    db: Database, settings: CaseCoreSettings
) -> None:
    app = create_app(settings.model_copy(update={"webhook_notify_email": None}))
    app.state.database = db
    auth = GatewayIdentity(settings.internal_secret, role="admin", scopes=STAFF_SCOPES)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cc", auth=auth) as api:
        body = {"url": "https://93.184.216.34/x", "event_types": ["case.created"]}
        # Without an operator default, the deployment's document says a new webhook names someone.
        create = (await api.get("/openapi.json")).json()["components"]["schemas"]["WebhookCreate"]
        assert "notify_email" in create["required"]
        assert create["properties"]["notify_email"]["type"] == "string"
        missing = await api.post("/api/v1/webhooks", json=body)
        assert missing.status_code == 422
        assert [e["field"] for e in missing.json()["errors"]] == ["body.notify_email"]
        bad = await api.post("/api/v1/webhooks", json={**body, "notify_email": "not an address"})
        assert bad.status_code == 422
        assert [e["field"] for e in bad.json()["errors"]] == ["body.notify_email"]
        assert (await api.get("/api/v1/webhooks")).json()["items"] == []
        created = await api.post("/api/v1/webhooks", json={**body, "notify_email": "a@example.com"})
        assert created.status_code == 201, created.text
        changed = await api.patch(f"/api/v1/webhooks/{created.json()['id']}", json={"notify_email": "b@example.com"})
        assert changed.json()["notify_email"] == "b@example.com"


async def _delivered_once(
    api: httpx.AsyncClient, db: Database, webhooks: WebhookService, flush_events: Flush, dispatch: Dispatch, url: str
) -> SubscriptionRow:
    """A webhook for ``url`` made through the service (its name resolves only through the test's resolver),
    and the first case's case.created delivered to it."""
    async with db.unit_of_work() as session:
        hook = await webhooks.create(
            session, WebhookCreate.model_validate({"url": url, "event_types": ["case.created"]})
        )
    await _open_case(api)
    await flush_events()
    assert await dispatch() == 1
    [delivery] = await _deliveries(api, str(hook.id))
    assert delivery["status"] == "succeeded"
    return hook


async def test_a_delivery_connects_to_the_address_the_guard_checked_not_to_a_fresh_lookup(
    api: httpx.AsyncClient, flush_events: Flush, dispatch: Dispatch, webhooks: WebhookService, db: Database
) -> None:
    """DNS rebinding: the name resolves to an allowed address when checked and elsewhere a moment
    later. Only this test's resolver knows the name (the system's DNS does not), so the delivery
    arriving proves the connection went to the checked address without looking the name up again."""
    lookups: list[str] = []
    answers = ["127.0.0.1", "127.0.0.1", "10.0.0.1"]  # creation, first attempt, anything after: rebound

    async def rebinding(host: str) -> list[ssrf.IPAddress]:
        lookups.append(host)
        return [ipaddress.ip_address(answers[min(len(lookups), len(answers)) - 1])]

    webhooks.resolver = rebinding
    receiver = WebhookReceiver()
    async with serve_http(receiver, lifespan="off") as url:
        port = httpx.URL(url).port
        allowed = await api.post("/api/v1/webhooks/allowed-networks", json={"network": "127.0.0.1/32"})
        assert allowed.status_code == 201
        hook = await _delivered_once(api, db, webhooks, flush_events, dispatch, f"http://hooks.rebind.test:{port}/in")
        [(headers, _)] = receiver.requests
        assert headers["host"] == f"hooks.rebind.test:{port}", "the receiver still sees its own name"
        assert lookups == ["hooks.rebind.test", "hooks.rebind.test"], "checked once per attempt, never again"

        # The next attempt checks again and meets the rebound, internal address: no request at all.
        await _open_case(api, "Another")
        await flush_events()
        assert await dispatch() == 1
        newest = (await _deliveries(api, str(hook.id)))[0]
        assert "10.0.0.1 is an internal address" in newest["last_error"]
    assert len(receiver.requests) == 1


async def test_a_name_with_several_vetted_addresses_is_reached_at_the_one_that_takes_the_connection(
    api: httpx.AsyncClient, flush_events: Flush, dispatch: Dispatch, webhooks: WebhookService, db: Database
) -> None:
    async def two_addresses(host: str) -> list[ssrf.IPAddress]:
        # The first refuses connections (nothing listens there), as an unreachable IPv6 address would.
        return [ipaddress.ip_address("127.0.0.2"), ipaddress.ip_address("127.0.0.1")]

    webhooks.resolver = two_addresses
    receiver = WebhookReceiver()
    async with serve_http(receiver, lifespan="off") as url:
        port = httpx.URL(url).port
        await _allow_loopback(api)
        await _delivered_once(api, db, webhooks, flush_events, dispatch, f"http://hooks.dual.test:{port}/in")
    [(headers, _)] = receiver.requests
    assert headers["host"] == f"hooks.dual.test:{port}"
