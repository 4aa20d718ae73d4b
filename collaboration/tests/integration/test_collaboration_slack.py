"""Slack: the workspace connection keeps its secrets sealed and write-only; a swarm opens its thread on a
local server speaking the parts of Slack's Web API the client calls (through the SSRF guard, retried with
the kit's backoff); replies posted there and signed as Slack signs its Events API posts come back into the
swarm; a bad signature, a stale timestamp and a replay are refused, a retried event is taken once."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from omnicase.collaboration.app import create_app
from omnicase.collaboration.models import slack_connections
from omnicase.collaboration.settings import CollaborationSettings
from omnicase.devtools.testing.apps import GatewayIdentity, running, served
from omnicase.devtools.testing.plugin import SettingsFactory, eventually
from omnicase.devtools.testing.servers import serve_http
from omnicase.kit.db import Database
from omnicase.sla_engine.app import create_app as create_sla_engine
from omnicase.sla_engine.settings import SlaEngineSettings

pytestmark = pytest.mark.asyncio

SCOPES = frozenset({"collaboration:read", "collaboration:write"})
BOT_TOKEN = "xoxb-test-1234567890"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM, CHANNEL = "T0TEAM01", "C0SWARMS1"
EVENTS = "/public/slack/events"

TellCase = Callable[..., Awaitable[Any]]


@dataclass
class FakeSlack:
    """The parts of Slack's Web API the client calls: chat.postMessage, answered as Slack answers."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    unavailable_first: int = 0
    users: dict[str, str] = field(default_factory=dict)  # email -> Slack user id
    # When set, a thread's first message is answered only once this is set (the thread opens late).
    threads_open: asyncio.Event | None = None

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/api/{method}")
        async def call(method: str, request: Request) -> Response:
            if request.headers.get("authorization") != f"Bearer {BOT_TOKEN}":
                return JSONResponse({"ok": False, "error": "invalid_auth"})
            if self.unavailable_first > 0:
                self.unavailable_first -= 1
                return JSONResponse({"ok": False, "error": "service_unavailable"}, status_code=503)
            if method == "users.lookupByEmail":  # form-encoded, as Slack takes it
                email = (await request.form()).get("email")
                self.calls.append((method, {"email": email}))
                if email not in self.users:
                    return JSONResponse({"ok": False, "error": "users_not_found"})
                return JSONResponse({"ok": True, "user": {"id": self.users[str(email)], "profile": {"email": email}}})
            body = await request.json()
            self.calls.append((method, body))
            if method == "conversations.invite":
                if body.get("channel") != CHANNEL:
                    return JSONResponse({"ok": False, "error": "channel_not_found"})
                return JSONResponse({"ok": True, "channel": {"id": CHANNEL}})
            if method != "chat.postMessage":
                return JSONResponse({"ok": False, "error": "unknown_method"})
            if body.get("channel") != CHANNEL:
                return JSONResponse({"ok": False, "error": "channel_not_found"})
            if "thread_ts" not in body and self.threads_open is not None:
                await self.threads_open.wait()
            # A message's ts is unique in its channel (Slack's id of the message).
            return JSONResponse({"ok": True, "channel": CHANNEL, "ts": f"{time.time():.6f}"})

        return app


def slack_signed(body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack sends with an Events API post: v0 HMAC-SHA256 of ``v0:<timestamp>:<body>``."""
    sent = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{sent}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": sent, "X-Slack-Signature": f"v0={digest}", "Content-Type": "application/json"}


def message_event(thread_ts: str, text: str, *, event_id: str | None = None, user: str = "U0EXPERT1") -> bytes:
    return json.dumps(
        {
            "token": "deprecated",
            "team_id": TEAM,
            "api_app_id": "A0APP",
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "event": {
                "type": "message",
                "channel": CHANNEL,
                "user": user,
                "text": text,
                "ts": f"{time.time():.6f}",
                "thread_ts": thread_ts,
                "channel_type": "channel",
            },
        }
    ).encode()


@pytest_asyncio.fixture
async def slack() -> AsyncIterator[tuple[FakeSlack, str]]:
    fake = FakeSlack()
    async with serve_http(fake.app()) as url:
        yield fake, url


@pytest_asyncio.fixture
async def sla_engine(service_settings: SettingsFactory) -> AsyncIterator[httpx.AsyncClient]:
    """The real sla-engine (its clocks start from case-core's case.events on the suite's broker); its admin."""
    app = create_sla_engine(service_settings(SlaEngineSettings))
    async with served(app, scopes=frozenset({"sla:read", "sla:write"})) as client:
        yield client


@pytest_asyncio.fixture
async def connected(
    service_settings: SettingsFactory,
    slack: tuple[FakeSlack, str],
    routing: str,
    case_core: httpx.AsyncClient,
    sla_engine: httpx.AsyncClient,
) -> AsyncIterator[tuple[httpx.AsyncClient, CollaborationSettings]]:
    """The running service with Slack connected to the local server (disconnected after the test)."""
    settings: CollaborationSettings = service_settings(
        CollaborationSettings,
        case_core_url=str(case_core.base_url),
        sla_engine_url=str(sla_engine.base_url),
        routing_url=routing,
        slack_allowed_networks=["127.0.0.0/8"],
        slack_poll_seconds=0.1,
        slack_retry_base_seconds=0.1,
        slack_retry_max_seconds=0.2,
    )
    async with running(create_app(settings), scopes=SCOPES) as client:
        body = {
            "team_id": TEAM,
            "channel_id": CHANNEL,
            "bot_token": BOT_TOKEN,
            "signing_secret": SIGNING_SECRET,
            "api_url": f"{slack[1]}/api",
        }
        response = await client.put("/api/v1/collaboration/slack", json=body)
        assert response.status_code == 200, response.text
        try:
            yield client, settings
        finally:
            assert (await client.delete("/api/v1/collaboration/slack")).status_code == 204


async def test_the_connection_keeps_its_secrets_sealed_and_never_shows_them(
    connected: tuple[httpx.AsyncClient, CollaborationSettings], database: Database
) -> None:
    client, _ = connected
    shown = await client.get("/api/v1/collaboration/slack")
    assert shown.status_code == 200
    assert (shown.json()["team_id"], shown.json()["bot_token_set"], shown.json()["signing_secret_set"]) == (
        TEAM,
        True,
        True,
    )
    assert BOT_TOKEN not in shown.text
    assert SIGNING_SECRET not in shown.text
    async with database.unit_of_work() as session:
        stored = (await session.execute(select(slack_connections))).one()
    assert BOT_TOKEN not in stored.bot_token
    assert SIGNING_SECRET not in stored.signing_secret

    bad = await client.put(
        "/api/v1/collaboration/slack",
        json={"team_id": TEAM, "channel_id": CHANNEL, "bot_token": "", "signing_secret": SIGNING_SECRET},
    )
    assert bad.status_code == 422
    assert "body.bot_token" in [error["field"] for error in bad.json()["errors"]]
    assert (await client.get("/api/v1/collaboration/slack")).json() == shown.json()


async def test_only_an_admin_connects_slack(
    connected: tuple[httpx.AsyncClient, CollaborationSettings],
) -> None:
    client, settings = connected
    agent = GatewayIdentity(settings.internal_secret, role="agent", scopes=SCOPES)
    assert (await client.get("/api/v1/collaboration/slack", auth=agent)).status_code == 403
    assert (await client.delete("/api/v1/collaboration/slack", auth=agent)).status_code == 403


async def test_a_swarm_opens_its_thread_and_a_reply_there_comes_back_once(
    connected: tuple[httpx.AsyncClient, CollaborationSettings],
    slack: tuple[FakeSlack, str],
    tell_case: TellCase,
    sla_engine: httpx.AsyncClient,
) -> None:
    client, settings = connected
    fake, _ = slack
    fake.unavailable_first = 1  # Slack's first answer is a 503: the call is tried again
    owner, brand = uuid.uuid4(), f"brand-{uuid.uuid4().hex[:12]}"
    policy = {
        "name": f"Swarmed {brand}",
        "conditions": {"brand": [brand]},
        "targets": {priority: {"first_reply": {"minutes": 90}} for priority in ("low", "normal", "high", "urgent")},
    }
    assert (await sla_engine.post("/api/v1/sla/policies", json=policy)).status_code == 201
    case = await tell_case(assignee_id=owner, subject="Invoices stop syncing", brand=brand)

    dues: list[datetime] = []

    async def clock_running() -> bool:
        answer = await sla_engine.get(f"/api/v1/sla/cases/{case.case_id}")
        running = [m for m in answer.json().get("milestones", []) if m["status"] == "running"]
        dues.extend(datetime.fromisoformat(m["due_at"]) for m in running if answer.status_code == 200)
        return bool(dues)

    await eventually(clock_running, message="sla-engine started the case's clock")
    due = min(dues)
    swarm = (
        await client.post(
            f"/api/v1/cases/{case.case_id}/swarms", json={"question": "Why over 10 MB?", "urgency": "urgent"}
        )
    ).json()

    async def threaded() -> bool:
        return (await client.get(f"/api/v1/swarms/{swarm['id']}")).json()["slack_thread_ts"] is not None

    await eventually(threaded, message="the swarm's thread opened on the Slack-speaking server")
    [(method, posted)] = fake.calls
    assert (method, posted["channel"]) == ("chat.postMessage", CHANNEL)
    assert posted["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": f"Swarm on case #{case.number}: Invoices stop syncing"},
    }
    assert "Why over 10 MB?" in json.dumps(posted["blocks"])
    sla_field = posted["blocks"][1]["fields"][3]["text"]
    fallback = due.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    assert sla_field == f"*SLA due*\n<!date^{int(due.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"
    assert posted["blocks"][-1]["elements"][0]["url"] == f"{settings.console_url}/cases/{case.case_id}"
    thread_ts = (await client.get(f"/api/v1/swarms/{swarm['id']}")).json()["slack_thread_ts"]

    body = message_event(thread_ts, "The worker's limit is 8 MB.", event_id="EvRETRIED01")
    assert (await client.post(EVENTS, content=body, headers=slack_signed(body))).status_code == 200
    # Slack retries the same event with a new timestamp (and so a new signature): taken once.
    retry = slack_signed(body, timestamp=int(time.time()) + 1) | {
        "X-Slack-Retry-Num": "1",
        "X-Slack-Retry-Reason": "http_timeout",
    }
    assert (await client.post(EVENTS, content=body, headers=retry)).status_code == 200
    thread = (await client.get(f"/api/v1/swarms/{swarm['id']}/messages")).json()["items"]
    assert [(m["author"], m["source"], m["text"]) for m in thread] == [
        ("slack:U0EXPERT1", "slack", "The worker's limit is 8 MB.")
    ]
    promoted = await client.post(f"/api/v1/swarms/{swarm['id']}/messages/{thread[0]['id']}/promotion")
    assert promoted.status_code == 200, promoted.text

    # A message posted in Omnicase goes into the thread, by the bot, naming its author.
    here = await client.post(f"/api/v1/swarms/{swarm['id']}/messages", json={"text": "Raising it to 32 MB <now>."})
    assert here.status_code == 201

    async def mirrored() -> bool:
        return any(body.get("thread_ts") == thread_ts for _, body in fake.calls)

    await eventually(mirrored, message="the Omnicase message reached the Slack thread")
    [reply] = [body for _, body in fake.calls if body.get("thread_ts") == thread_ts]
    assert (reply["channel"], reply["text"]) == (CHANNEL, "*user:test-admin*: Raising it to 32 MB &lt;now&gt;.")


async def test_bad_signature_stale_timestamp_and_replay_are_refused_and_change_nothing(
    connected: tuple[httpx.AsyncClient, CollaborationSettings], tell_case: TellCase
) -> None:
    client, _ = connected
    case = await tell_case(assignee_id=uuid.uuid4())
    swarm = (await client.post(f"/api/v1/cases/{case.case_id}/swarms", json={"question": "Help?"})).json()

    async def threaded() -> str | None:
        ts: str | None = (await client.get(f"/api/v1/swarms/{swarm['id']}")).json()["slack_thread_ts"]
        return ts

    await eventually(threaded, message="thread opened")
    thread_ts = await threaded()
    assert thread_ts is not None

    body = message_event(thread_ts, "forged")
    forged = await client.post(EVENTS, content=body, headers=slack_signed(body, secret="not-the-signing-secret"))
    assert forged.status_code == 401
    assert forged.headers["content-type"].startswith("application/problem+json")
    assert "signature" in forged.json()["detail"]

    # Well past five minutes either way: whole seconds drop up to one, and the request's own time on a
    # busy machine takes more off a time in the future.
    stale = await client.post(EVENTS, content=body, headers=slack_signed(body, timestamp=int(time.time()) - 330))
    assert stale.status_code == 401
    assert "five minutes" in stale.json()["detail"]
    future = await client.post(EVENTS, content=body, headers=slack_signed(body, timestamp=int(time.time()) + 330))
    assert future.status_code == 401

    unsigned = await client.post(EVENTS, content=body, headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401

    tampered = slack_signed(body)
    assert (await client.post(EVENTS, content=body.replace(b"forged", b"forgeD"), headers=tampered)).status_code == 401

    assert (await client.get(f"/api/v1/swarms/{swarm['id']}/messages")).json()["items"] == []

    good = message_event(thread_ts, "genuine")
    headers = slack_signed(good)
    assert (await client.post(EVENTS, content=good, headers=headers)).status_code == 200
    replay = await client.post(EVENTS, content=good, headers=headers)
    assert replay.status_code == 401
    assert "replay" in replay.json()["detail"]
    texts = [m["text"] for m in (await client.get(f"/api/v1/swarms/{swarm['id']}/messages")).json()["items"]]
    assert texts == ["genuine"]

    challenge = json.dumps(
        {"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"}
    ).encode()
    answer = await client.post(EVENTS, content=challenge, headers=slack_signed(challenge))
    assert answer.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


async def test_an_agent_who_joins_is_invited_by_the_email_routing_has_and_writes_in_slack_as_themself(
    connected: tuple[httpx.AsyncClient, CollaborationSettings],
    slack: tuple[FakeSlack, str],
    routing: str,
    tell_case: TellCase,
) -> None:
    client, settings = connected
    fake, _ = slack
    expert = uuid.uuid4()
    email = f"expert-{expert.hex[:8]}@swarm.example"
    fake.users[email] = "U0EXPERT9"
    admin = GatewayIdentity(settings.internal_secret, scopes=frozenset({"routing:read", "routing:write"}))
    async with httpx.AsyncClient(base_url=routing, auth=admin) as routing_api:
        created = await routing_api.post(
            "/api/v1/agents", json={"user_id": str(expert), "name": "Expert", "email": email}
        )
        assert created.status_code == 201, created.text
    case = await tell_case(assignee_id=uuid.uuid4())
    swarm = (
        await client.post(
            f"/api/v1/cases/{case.case_id}/swarms",
            json={"question": "Help?", "members": [{"kind": "agent", "id": str(expert)}]},
        )
    ).json()

    async def invited() -> bool:
        return any(method == "conversations.invite" for method, _ in fake.calls)

    await eventually(invited, message="the expert was invited into the swarm's channel")
    assert ("users.lookupByEmail", {"email": email}) in fake.calls
    assert ("conversations.invite", {"channel": CHANNEL, "users": "U0EXPERT9"}) in fake.calls
    assert swarm["members"][0]["id"] == str(expert)

    # The lookup told which Slack user the expert is: what they write in the thread is theirs.
    async def threaded() -> bool:
        return (await client.get(f"/api/v1/swarms/{swarm['id']}")).json()["slack_thread_ts"] is not None

    await eventually(threaded, message="the swarm's thread opened")
    thread_ts = (await client.get(f"/api/v1/swarms/{swarm['id']}")).json()["slack_thread_ts"]
    for user, text in (("U0EXPERT9", "Mine."), ("U0STRANGER", "Who am I?")):
        body = message_event(thread_ts, text, user=user)
        assert (await client.post(EVENTS, content=body, headers=slack_signed(body))).status_code == 200
    thread = (await client.get(f"/api/v1/swarms/{swarm['id']}/messages")).json()["items"]
    assert [(m["author"], m["author_name"], m["text"]) for m in thread] == [
        (f"user:{expert}", "Expert", "Mine."),
        ("slack:U0STRANGER", None, "Who am I?"),
    ]


async def test_an_admin_maps_a_slack_user_to_an_agent_by_hand_and_unmaps_them(
    connected: tuple[httpx.AsyncClient, CollaborationSettings], routing: str, tell_case: TellCase
) -> None:
    client, settings = connected
    agent_id = uuid.uuid4()
    slack_user = f"U{agent_id.hex[:10].upper()}"
    admin = GatewayIdentity(settings.internal_secret, scopes=frozenset({"routing:read", "routing:write"}))
    async with httpx.AsyncClient(base_url=routing, auth=admin) as routing_api:
        created = await routing_api.post("/api/v1/agents", json={"user_id": str(agent_id), "name": "Grace"})
        assert created.status_code == 201, created.text
    url = f"/api/v1/collaboration/slack/users/{slack_user}"

    # Bad input is a problem and maps nobody.
    unknown = await client.put(url, json={"agent_id": str(uuid.uuid4())})
    assert unknown.status_code == 404, unknown.text
    assert unknown.json()["type"].endswith("unknown-reference")
    assert unknown.json()["errors"][0]["field"] == "body.agent_id"
    not_an_id = await client.put("/api/v1/collaboration/slack/users/not-slack", json={"agent_id": str(agent_id)})
    assert not_an_id.status_code == 404, "a path naming no Slack user names nothing"
    assert not_an_id.headers["content-type"].startswith("application/problem+json")
    missing = await client.put(url, json={})
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "body.agent_id"
    agent = GatewayIdentity(settings.internal_secret, role="agent", scopes=SCOPES, subject=str(agent_id))
    assert (await client.put(url, json={"agent_id": str(agent_id)}, auth=agent)).status_code == 403
    assert (await client.get("/api/v1/collaboration/slack/users", auth=agent)).status_code == 403

    async def listed() -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params: dict[str, str | int] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/api/v1/collaboration/slack/users", params=params)).json()
            items += [item for item in page["items"] if item["slack_user_id"] == slack_user]
            cursor = page["next_cursor"]
            if cursor is None:
                return items

    assert await listed() == []

    mapped = await client.put(url, json={"agent_id": str(agent_id)})
    assert mapped.status_code == 200, mapped.text
    assert (mapped.json()["slack_user_id"], mapped.json()["agent_id"], mapped.json()["name"]) == (
        slack_user,
        str(agent_id),
        "Grace",
    )
    assert [item["agent_id"] for item in await listed()] == [str(agent_id)]

    case = await tell_case(assignee_id=uuid.uuid4())
    swarm = (await client.post(f"/api/v1/cases/{case.case_id}/swarms", json={"question": "Help?"})).json()

    async def threaded() -> str | None:
        ts: str | None = (await client.get(f"/api/v1/swarms/{swarm['id']}")).json()["slack_thread_ts"]
        return ts

    await eventually(threaded, message="the swarm's thread opened")
    thread_ts = await threaded()
    assert thread_ts is not None
    body = message_event(thread_ts, "Mapped by hand.", user=slack_user)
    assert (await client.post(EVENTS, content=body, headers=slack_signed(body))).status_code == 200

    assert (await client.delete(url)).status_code == 204
    gone = await client.delete(url)
    assert gone.status_code == 404
    assert gone.json()["type"].endswith("slack-user-not-mapped")
    assert await listed() == []
    body = message_event(thread_ts, "Unmapped now.", user=slack_user)
    assert (await client.post(EVENTS, content=body, headers=slack_signed(body))).status_code == 200

    thread = (await client.get(f"/api/v1/swarms/{swarm['id']}/messages")).json()["items"]
    assert [(m["author"], m["author_name"], m["text"]) for m in thread] == [
        (f"user:{agent_id}", "Grace", "Mapped by hand."),
        (f"slack:{slack_user}", None, "Unmapped now."),
    ]


async def test_mapping_a_slack_user_while_routing_cannot_answer_is_a_503_and_maps_nobody(
    client: httpx.AsyncClient,
) -> None:
    url = "/api/v1/collaboration/slack/users/U0NOROUTING"
    answer = await client.put(url, json={"agent_id": str(uuid.uuid4())})
    assert answer.status_code == 503
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert (await client.delete(url)).status_code == 404


async def test_messages_posted_before_the_thread_opened_are_mirrored_into_it_once_oldest_first(
    connected: tuple[httpx.AsyncClient, CollaborationSettings], slack: tuple[FakeSlack, str], tell_case: TellCase
) -> None:
    client, _ = connected
    fake, _ = slack
    fake.threads_open = asyncio.Event()
    case = await tell_case(assignee_id=uuid.uuid4())
    swarm = (await client.post(f"/api/v1/cases/{case.case_id}/swarms", json={"question": "Help?"})).json()
    url = f"/api/v1/swarms/{swarm['id']}"
    for text in ("First, before Slack answered.", "Second."):
        assert (await client.post(f"{url}/messages", json={"text": text})).status_code == 201
    assert (await client.get(url)).json()["slack_thread_ts"] is None, "Slack has not answered the summary yet"

    fake.threads_open.set()

    async def threaded() -> str | None:
        ts: str | None = (await client.get(url)).json()["slack_thread_ts"]
        return ts

    await eventually(threaded, message="the swarm's thread opened")
    thread_ts = await threaded()
    assert (await client.post(f"{url}/messages", json={"text": "Third, in the open thread."})).status_code == 201

    def replies() -> list[str]:
        return [body["text"] for _, body in fake.calls if body.get("thread_ts") == thread_ts]

    async def all_mirrored() -> bool:
        return len(replies()) >= 3

    await eventually(all_mirrored, message="the three messages reached the Slack thread")
    assert replies() == [
        "*user:test-admin*: First, before Slack answered.",
        "*user:test-admin*: Second.",
        "*user:test-admin*: Third, in the open thread.",
    ]
