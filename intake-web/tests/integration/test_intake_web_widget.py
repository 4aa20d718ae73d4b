"""The chat widget's public API: conversations, messages into the intake, agent replies live, refusals.

intake-web runs as a real HTTP server (the event stream is read as a browser reads it)
on the test's PostgreSQL and broker; agent replies arrive as case-core sends them, as
``outbound.message_requested`` on the topic.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from websockets import ConnectionClosed, Origin
from websockets.asyncio.client import ClientConnection, connect

from omnicase.devtools.testing.plugin import eventually
from omnicase.devtools.testing.probes import read_topic
from omnicase.devtools.testing.servers import serve_http
from omnicase.gateway.app import create_app as create_gateway
from omnicase.gateway.stream.reader import open_stream
from omnicase.gateway.testing import Upstream, gateway_settings
from omnicase.intake_web.app import create_app
from omnicase.intake_web.settings import IntakeWebSettings
from omnicase.intake_web.widget import tokens
from omnicase.intake_web.widget.hub import ConversationFeed, ConversationHub, thread_key
from omnicase.kit.bus.producer import EventProducer
from omnicase.kit.clock import utcnow
from omnicase.kit.events import (
    CaseCreated,
    CaseSnapshot,
    DeliveryReported,
    Envelope,
    MessageReceived,
    OutboundMessageRequested,
    Party,
    SendReplyByEmail,
)
from omnicase.kit.identity import IDENTITY_HEADER, hs256_encode, sign_identity
from omnicase.kit.topics import Topic, physical
from omnicase.ops.topics import ensure_suite_topics

pytestmark = pytest.mark.asyncio

SITE = "https://shop.example"
EVIL = "https://evil.example"


async def _widget(served: Any, **config: Any) -> dict[str, Any]:
    body = {
        "name": "Acme chat",
        "config": {"kind": "widget", "brand": "acme", "allowed_origins": [SITE], **config},
        "defaults": {"tags": ["chat"]},
    }
    created = await served.client.post("/api/v1/channels", json=body)
    assert created.status_code == 201, created.text
    channel: dict[str, Any] = created.json()
    return channel


async def _start(public: httpx.AsyncClient, channel_id: str) -> str:
    started = await public.post(f"/public/messaging/{channel_id}/conversations", headers={"Origin": SITE})
    assert started.status_code == 201, started.text
    assert started.headers["access-control-allow-origin"] == SITE
    token: str = started.json()["token"]
    return token


async def _write(public: httpx.AsyncClient, channel_id: str, token: str, text: str) -> None:
    """The visitor writes (posted, as the widget does before its socket is open); stored."""
    sent = await public.post(
        f"/public/messaging/{channel_id}/messages",
        json={"text": text, "client_id": uuid.uuid4().hex},
        headers={"Origin": SITE, "X-Widget-Token": token},
    )
    assert sent.status_code == 201, sent.text


async def _reply(producer: EventProducer, prefix: str, thread_key: str, text: str) -> OutboundMessageRequested:
    case_id = uuid.uuid4()
    request = OutboundMessageRequested(
        outbound_id=uuid.uuid4(),
        case_id=case_id,
        channel="messaging",
        to=[Party(handle="visitor")],
        text=f"{text}\n\n[ref:oc-0123456789abcdef0123]\n",
        conversation_id=thread_key,
    )
    envelope = request.envelope(source="case-core", subject=str(case_id))
    await producer.publish(physical(Topic.OUTBOUND_MESSAGES, prefix), envelope, key=str(case_id))
    return request


async def test_a_visitor_writes_the_message_becomes_an_intake_message_and_the_agent_reply_arrives_live(
    served_service: Any, producer: EventProducer, kafka_bootstrap: str
) -> None:
    served = served_service
    channel = await _widget(served)
    assert channel["kind"] == "widget"
    assert channel["webhook_url"].endswith(f"/public/messaging/{channel['id']}/widget.js")
    snippet = await served.client.get(f"/api/v1/channels/{channel['id']}/snippet", params={"locale": "ko"})
    assert snippet.status_code == 200
    assert f'src="{channel["webhook_url"]}"' in snippet.text
    assert 'data-locale="ko"' in snippet.text
    prefix = served.settings.topic_prefix

    async with httpx.AsyncClient(base_url=served.url) as public:
        script = await public.get(f"/public/messaging/{channel['id']}/widget.js")
        assert script.status_code == 200
        assert script.headers["content-type"].startswith("text/javascript")
        assert "OmnicaseWidgetSettings" in script.text

        token = await _start(public, channel["id"])
        headers = {"Origin": SITE, "X-Widget-Token": token}
        sent = await public.post(
            f"/public/messaging/{channel['id']}/messages",
            json={"text": "Where is my parcel?", "client_id": "m1"},
            headers=headers,
        )
        assert sent.status_code == 201, sent.text
        assert sent.json()["seq"] == 1
        # A lost answer: the widget sends the same message again; it is stored once.
        again = await public.post(
            f"/public/messaging/{channel['id']}/messages",
            json={"text": "Where is my parcel?", "client_id": "m1"},
            headers=headers,
        )
        assert again.status_code == 200
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json()["seq"] == 1

        records = await read_topic(kafka_bootstrap, physical(Topic.INTAKE_MESSAGES, prefix), expect=1, within=20)
        received = MessageReceived.parse(Envelope.from_bytes(records[0].value))
        conversation_id = tokens.read(
            served.settings.widget_token_secret, token, uuid.UUID(channel["id"]), utcnow()
        ).conversation_id
        thread_key = f"widget:{channel['id']}:{conversation_id}"
        assert received.thread_key == thread_key
        assert received.channel == "messaging"
        assert received.defaults.brand == "acme"
        assert received.text == "Where is my parcel?"

        async with open_stream(
            public, f"/public/messaging/{channel['id']}/events", params={"token": token}, headers={"Origin": SITE}
        ) as stream:
            first = await stream.next()
            assert first.id == "1"
            assert first.json()["text"] == "Where is my parcel?"
            request = await _reply(producer, prefix, thread_key, "It left our warehouse today.")
            reply = await stream.next(within=20)
            assert reply.id == "2"
            assert reply.json()["direction"] == "agent"
            assert reply.json()["text"] == "It left our warehouse today."

        # Reconnecting after the last id seen resumes with what came since, nothing before.
        await _reply(producer, prefix, thread_key, "Tracking: 1Z999.")
        async with open_stream(
            public,
            f"/public/messaging/{channel['id']}/events",
            params={"token": token},
            headers={"Origin": SITE, "Last-Event-ID": "2"},
        ) as stream:
            resumed = await stream.next(within=20)
            assert resumed.id == "3"
            assert resumed.json()["text"] == "Tracking: 1Z999."

        transcript = await public.get(f"/public/messaging/{channel['id']}/conversation", headers=headers)
        assert [entry["direction"] for entry in transcript.json()["entries"]] == ["visitor", "agent", "agent"]

    reports = await read_topic(kafka_bootstrap, physical(Topic.INTAKE_MESSAGES, prefix), expect=3, within=20)
    delivered = [
        DeliveryReported.parse(envelope)
        for envelope in (Envelope.from_bytes(record.value) for record in reports)
        if envelope.type == "intake.delivery_reported"
    ]
    assert {report.outbound_id for report in delivered} >= {request.outbound_id}
    assert all(report.status == "sent" for report in delivered)
    deliveries = await served.client.get(f"/api/v1/channels/{channel['id']}/deliveries")
    assert [item["status"] for item in deliveries.json()["items"]] == ["sent", "sent"]


async def test_bad_tokens_long_messages_unknown_widgets_and_foreign_sites_are_refused_and_change_nothing(
    served_service: Any,
) -> None:
    served = served_service
    channel = await _widget(served, max_message_chars=20)
    other = await _widget(served)
    base = f"/public/messaging/{channel['id']}"
    async with httpx.AsyncClient(base_url=served.url) as public:
        token = await _start(public, channel["id"])
        other_token = await _start(public, other["id"])

        async def send(text: str, **headers: str) -> httpx.Response:
            return await public.post(f"{base}/messages", json={"text": text, "client_id": "c1"}, headers=headers)

        cases = [
            (await send("hello", Origin=SITE), 401, "widget-token-invalid"),
            (await send("hello", Origin=SITE, **{"X-Widget-Token": token + "x"}), 401, "widget-token-invalid"),
            # A token of another widget opens nothing here.
            (await send("hello", Origin=SITE, **{"X-Widget-Token": other_token}), 401, "widget-token-invalid"),
            (await send("x" * 21, Origin=SITE, **{"X-Widget-Token": token}), 413, "message-too-long"),
            (
                await send("hello", Origin="https://evil.example", **{"X-Widget-Token": token}),
                403,
                "origin-not-allowed",
            ),
        ]
        for response, status, slug in cases:
            assert response.status_code == status, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["type"].endswith(slug)
        # Refusals a browser on the site must be able to read carry its CORS headers.
        assert cases[0][0].headers["access-control-allow-origin"] == SITE
        assert "access-control-allow-origin" not in cases[4][0].headers

        invalid = await public.post(
            f"{base}/messages", json={"text": "hi", "client_id": "no spaces"}, headers={"X-Widget-Token": token}
        )
        assert invalid.status_code == 422
        assert [error["field"] for error in invalid.json()["errors"]] == ["body.client_id"]

        unknown = await public.post(f"/public/messaging/{uuid.uuid4()}/conversations")
        assert unknown.status_code == 404
        assert unknown.json()["type"].endswith("widget-not-found")
        preflight = await public.options(
            f"{base}/messages", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
        )
        assert preflight.status_code == 403

        transcript = await public.get(f"{base}/conversation", headers={"X-Widget-Token": token})
        assert transcript.json()["entries"] == []

        # Answers first: nothing to answer before articles were shown.
        for path, body in ((f"{base}/answered", {"article_id": str(uuid.uuid4())}), (f"{base}/handover", None)):
            refused = await public.post(path, json=body, headers={"X-Widget-Token": token, "Origin": SITE})
            assert refused.status_code == 409, refused.text
            assert refused.json()["type"].endswith("no-articles-shown")
            assert refused.headers["access-control-allow-origin"] == SITE
        malformed = await public.post(f"{base}/answered", json={"article_id": "x"}, headers={"X-Widget-Token": token})
        assert malformed.status_code == 422
    messages = (await served.client.get(f"/api/v1/channels/{channel['id']}/messages")).json()["items"]
    assert messages == []
    not_a_widget = await served.client.post(
        "/api/v1/channels",
        json={"name": "Partner", "config": {"kind": "generic", "secrets": ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]}},
    )
    snippet = await served.client.get(f"/api/v1/channels/{not_a_widget.json()['id']}/snippet")
    assert snippet.status_code == 409
    assert snippet.json()["type"].endswith("not-a-widget")


async def test_a_visitor_past_the_rate_limit_is_told_to_wait(served_service: Any) -> None:
    served = served_service
    channel = await _widget(served, per_visitor_per_minute=2)
    base = f"/public/messaging/{channel['id']}"
    async with httpx.AsyncClient(base_url=served.url) as public:
        token = await _start(public, channel["id"])
        answers = [
            await public.post(
                f"{base}/messages",
                json={"text": f"message {n}", "client_id": f"n{n}"},
                headers={"X-Widget-Token": token},
            )
            for n in range(3)
        ]
        assert [answer.status_code for answer in answers] == [201, 201, 429]
        assert int(answers[2].headers["retry-after"]) >= 1
        transcript = await public.get(f"{base}/conversation", headers={"X-Widget-Token": token})
        assert [entry["text"] for entry in transcript.json()["entries"]] == ["message 0", "message 1"]


async def test_a_customer_the_site_identifies_chats_as_themselves_and_finds_their_conversation_again(
    served_service: Any, kafka_bootstrap: str
) -> None:
    served = served_service
    site_secret = "acme-site-secret-0123456789abcdef0123"
    channel = await _widget(served, identity_secrets=[site_secret])
    assert "identity_secrets" not in channel["settings"]
    base = f"/public/messaging/{channel['id']}"

    def site_token(secret: str = site_secret, **claims: Any) -> str:
        now = int(utcnow().timestamp())
        return hs256_encode(
            {
                "sub": "user-42",
                "email": "jane@shop.example",
                "name": "Jane Doe",
                "iat": now,
                "exp": now + 600,
                **claims,
            },
            secret,
            typ="JWT",
        )

    async with httpx.AsyncClient(base_url=served.url) as public:
        first = await public.post(f"{base}/conversations", json={"identity": site_token()}, headers={"Origin": SITE})
        assert first.status_code == 201, first.text
        sent = await public.post(
            f"{base}/messages",
            json={"text": "Is my order shipped?", "client_id": "a1"},
            headers={"X-Widget-Token": first.json()["token"]},
        )
        assert sent.status_code == 201, sent.text
        records = await read_topic(
            kafka_bootstrap, physical(Topic.INTAKE_MESSAGES, served.settings.topic_prefix), expect=1, within=20
        )
        received = MessageReceived.parse(Envelope.from_bytes(records[0].value))
        assert received.sender.email == "jane@shop.example"
        assert received.sender.name == "Jane Doe"

        # Another device, the same customer: the same conversation, with what they wrote before.
        again = await public.post(f"{base}/conversations", json={"identity": site_token()})
        assert again.json()["conversation_id"] == first.json()["conversation_id"]
        transcript = await public.get(f"{base}/conversation", headers={"X-Widget-Token": again.json()["token"]})
        assert [entry["text"] for entry in transcript.json()["entries"]] == ["Is my order shipped?"]

        refused = [
            await public.post(
                f"{base}/conversations", json={"identity": site_token("another-secret-0123456789abcdef")}
            ),
            await public.post(f"{base}/conversations", json={"identity": site_token(exp=1)}),
            await public.post(f"{base}/conversations", json={"identity": site_token(email="not an address")}),
            await public.post(
                f"/public/messaging/{(await _widget(served))['id']}/conversations", json={"identity": site_token()}
            ),
        ]
        for response in refused:
            assert response.status_code == 401, response.text
            assert response.json()["type"].endswith("widget-identity-invalid")


async def test_the_pre_chat_form_is_asked_first_and_its_topic_tags_the_case(
    served_service: Any, kafka_bootstrap: str
) -> None:
    served = served_service
    channel = await _widget(served, pre_chat={"name": True, "email": True, "topics": ["billing", "returns"]})
    base = f"/public/messaging/{channel['id']}"
    async with httpx.AsyncClient(base_url=served.url) as public:
        unanswered = await public.post(f"{base}/conversations", json={"name": "Jane"})
        assert unanswered.status_code == 409
        assert sorted(error["field"] for error in unanswered.json()["errors"]) == ["body.email", "body.topic"]
        foreign_topic = await public.post(
            f"{base}/conversations", json={"name": "Jane", "email": "jane@shop.example", "topic": "legal"}
        )
        assert foreign_topic.status_code == 409
        assert [error["field"] for error in foreign_topic.json()["errors"]] == ["body.topic"]
        bad_email = await public.post(
            f"{base}/conversations", json={"name": "Jane", "email": "not an address", "topic": "billing"}
        )
        assert bad_email.status_code == 422

        started = await public.post(
            f"{base}/conversations", json={"name": "Jane", "email": "jane@shop.example", "topic": "billing"}
        )
        assert started.status_code == 201, started.text
        sent = await public.post(
            f"{base}/messages",
            json={"text": "I was charged twice.", "client_id": "p1"},
            headers={"X-Widget-Token": started.json()["token"]},
        )
        assert sent.status_code == 201
    records = await read_topic(
        kafka_bootstrap, physical(Topic.INTAKE_MESSAGES, served.settings.topic_prefix), expect=1, within=20
    )
    received = MessageReceived.parse(Envelope.from_bytes(records[0].value))
    assert (received.sender.name, received.sender.email) == ("Jane", "jane@shop.example")
    assert received.defaults.tags == ["chat", "topic-billing"]


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


async def test_outside_business_hours_the_widget_says_so_and_a_message_left_with_an_email_becomes_a_case(
    served_service: Any, kafka_bootstrap: str
) -> None:
    served = served_service
    today = utcnow().weekday()
    # Open only on the day three days from now: closed now, whatever the hour.
    closed = await _widget(
        served,
        business_hours={"time_zone": "UTC", "intervals": [{"day": WEEKDAYS[(today + 3) % 7], "start": "00:00",
                                                          "end": "24:00"}]},
    )  # fmt: skip
    always = {
        "time_zone": "Asia/Seoul",
        "intervals": [{"day": day, "start": "00:00", "end": "24:00"} for day in WEEKDAYS],
    }
    open_channel = await _widget(served, business_hours=always)
    base = f"/public/messaging/{closed['id']}"
    async with httpx.AsyncClient(base_url=served.url) as public:
        script = await public.get(f"{base}/widget.js")
        assert '"away": true' in script.text
        assert script.headers["cache-control"] == "public, max-age=60"
        assert '"away": false' in (await public.get(f"/public/messaging/{open_channel['id']}/widget.js")).text

        # A topic the chat has none of is refused; an email that is no address too; nothing stored.
        no_topics = await public.post(f"{base}/conversations", json={"email": "late@shop.example", "topic": "x"})
        assert no_topics.status_code == 409
        assert [error["field"] for error in no_topics.json()["errors"]] == ["body.topic"]
        not_an_address = await public.post(f"{base}/conversations", json={"email": "late at shop"})
        assert not_an_address.status_code == 422

        # The visitor leaves a message and their email: it becomes a case like any chat, tagged after-hours.
        left = await public.post(f"{base}/conversations", json={"email": "late@shop.example"})
        assert left.status_code == 201, left.text
        await _write(public, closed["id"], left.json()["token"], "Please call me back about my order.")
        # A widget loaded before closing time may write without an email: the message is kept all the same.
        await _write(public, closed["id"], await _start(public, closed["id"]), "Still there?")
        await _write(public, open_channel["id"], await _start(public, open_channel["id"]), "Hello in hours")
    records = await read_topic(
        kafka_bootstrap, physical(Topic.INTAKE_MESSAGES, served.settings.topic_prefix), expect=3, within=20
    )
    received = {m.text: m for m in (MessageReceived.parse(Envelope.from_bytes(r.value)) for r in records)}
    assert received["Please call me back about my order."].sender.email == "late@shop.example"
    assert received["Please call me back about my order."].defaults.tags == ["chat", "after-hours"]
    assert received["Still there?"].defaults.tags == ["chat", "after-hours"]
    assert received["Hello in hours"].defaults.tags == ["chat"]


async def test_business_hours_that_are_not_a_schedule_are_refused_naming_the_field(served_service: Any) -> None:
    served = served_service
    bad = [
        ({"time_zone": "Mars/Olympus", "intervals": [{"day": "monday", "start": "09:00", "end": "17:00"}]},
         "time_zone"),
        ({"time_zone": "UTC", "intervals": []}, "intervals"),
        ({"time_zone": "UTC", "intervals": [{"day": "someday", "start": "09:00", "end": "17:00"}]}, "day"),
        ({"time_zone": "UTC", "intervals": [{"day": "monday", "start": "24:00", "end": "17:00"}]}, "start"),
        ({"time_zone": "UTC", "intervals": [{"day": "monday", "start": "09:00", "end": "5pm"}]}, "end"),
        ({"time_zone": "UTC", "intervals": [{"day": "monday", "start": "09:00", "end": "17:00"}], "holidays": []},
         "holidays"),
    ]  # fmt: skip
    before = (await served.client.get("/api/v1/channels")).json()["items"]
    for hours, field in bad:
        body = {"name": "Acme chat", "config": {"kind": "widget", "brand": "acme", "business_hours": hours}}
        refused = await served.client.post("/api/v1/channels", json=body)
        assert refused.status_code == 422, (hours, refused.text)
        assert any(error["field"].endswith(field) for error in refused.json()["errors"]), refused.text
    assert (await served.client.get("/api/v1/channels")).json()["items"] == before


def _socket_url(served: Any, channel_id: str, token: str, after: int = 0) -> str:
    base = served.url.replace("http://", "ws://", 1)
    return f"{base}/public/messaging/{channel_id}/socket?token={token}&after={after}"


async def _next_entry(socket: ClientConnection) -> dict[str, Any]:
    """The next entry the socket gives (keep-alives and signals skipped)."""
    entry: dict[str, Any] = (await _frame(socket, "message"))["entry"]
    return entry


async def test_the_conversation_comes_live_over_a_websocket_and_a_new_socket_resumes_after_the_last_entry(
    served_service: Any, producer: EventProducer
) -> None:
    served = served_service
    channel = await _widget(served)
    prefix = served.settings.topic_prefix
    async with httpx.AsyncClient(base_url=served.url) as public:
        token = await _start(public, channel["id"])
        headers = {"Origin": SITE, "X-Widget-Token": token}
        sent = await public.post(
            f"/public/messaging/{channel['id']}/messages", json={"text": "Hello?", "client_id": "w1"}, headers=headers
        )
        assert sent.status_code == 201, sent.text
    conversation_id = tokens.read(
        served.settings.widget_token_secret, token, uuid.UUID(channel["id"]), utcnow()
    ).conversation_id
    thread_key = f"widget:{channel['id']}:{conversation_id}"

    async with connect(_socket_url(served, channel["id"], token), origin=Origin(SITE)) as socket:
        first = await _next_entry(socket)
        assert (first["seq"], first["direction"], first["text"]) == (1, "visitor", "Hello?")
        await _reply(producer, prefix, thread_key, "Hi, how can I help?")
        reply = await _next_entry(socket)
        assert (reply["seq"], reply["direction"], reply["text"]) == (2, "agent", "Hi, how can I help?")

    # Cut: a reply comes while no socket is open; the next one, after the last entry held, gets only it.
    await _reply(producer, prefix, thread_key, "Are you there?")
    async with connect(_socket_url(served, channel["id"], token, after=2), origin=Origin(SITE)) as socket:
        resumed = await _next_entry(socket)
        assert (resumed["seq"], resumed["text"]) == (3, "Are you there?")


async def test_a_websocket_with_a_bad_token_from_a_foreign_site_or_to_no_widget_is_closed_saying_why(
    served_service: Any,
) -> None:
    served = served_service
    channel = await _widget(served)
    async with httpx.AsyncClient(base_url=served.url) as public:
        token = await _start(public, channel["id"])
    refusals = [
        (_socket_url(served, channel["id"], token + "x"), SITE, 4401, "widget-token-invalid"),
        (_socket_url(served, channel["id"], token), EVIL, 4403, "origin-not-allowed"),
        (_socket_url(served, str(uuid.uuid4()), token), SITE, 4404, "widget-not-found"),
    ]
    for url, origin, code, reason in refusals:
        async with connect(url, origin=Origin(origin)) as socket:
            with pytest.raises(ConnectionClosed):
                await socket.recv()
            assert (socket.close_code, socket.close_reason) == (code, reason)


@contextlib.asynccontextmanager
async def _gateway_before(served: Any, database_url: str) -> AsyncIterator[str]:
    """The real gateway in front of the served intake-web: its public socket URL base."""
    settings = gateway_settings(database_url, Upstream(url=served.url), service_urls={"intake-web": served.url})
    async with serve_http(create_gateway(settings)) as url:
        yield url.replace("http://", "ws://", 1)


async def _said(socket: ClientConnection, frame: dict[str, Any]) -> dict[str, Any]:
    """Send a frame; the socket's answer to it (an ack or a refusal; live entries and keep-alives skipped)."""
    await socket.send(json.dumps(frame))
    async with asyncio.timeout(20):
        while True:
            answer: dict[str, Any] = json.loads(await socket.recv())
            if answer["type"] in ("ack", "refused"):
                return answer


async def test_a_visitor_writes_over_the_socket_through_the_gateway_acknowledged_once_stored_a_resend_is_one_message(
    served_service: Any, database_url: str, kafka_bootstrap: str
) -> None:
    served = served_service
    channel = await _widget(served, max_message_chars=30, per_visitor_per_minute=6)
    base = f"/public/messaging/{channel['id']}"
    async with httpx.AsyncClient(base_url=served.url) as public:
        token = await _start(public, channel["id"])
    async with _gateway_before(served, database_url) as gateway:
        url = f"{gateway}{base}/socket?token={token}&after=0"
        async with connect(url, origin=Origin(SITE)) as socket:
            ack = await _said(socket, {"type": "message", "text": "Hello over the socket", "client_id": "k1"})
            assert (ack["client_id"], ack["replayed"]) == ("k1", False)
            assert (ack["entry"]["seq"], ack["entry"]["direction"]) == (1, "visitor")
            # The stored message is the conversation's next entry on the socket too.
            live = await _next_entry(socket)
            assert (live["seq"], live["text"], live["client_id"]) == (1, "Hello over the socket", "k1")

            # Bad frames: refused as the POST refuses them, naming the message they were for; nothing stored.
            refusals = [
                ({"type": "message", "text": "x" * 31, "client_id": "k2"}, 413, "message-too-long", ["body.text"]),
                ({"type": "message", "text": "   ", "client_id": "k3"}, 422, "validation-error", ["body.text"]),
                ({"type": "message", "text": "hi", "client_id": "no spaces"}, 422, "validation-error",
                 ["body.client_id"]),
                ({"type": "message", "text": "hi"}, 422, "validation-error", ["body.client_id"]),
                ({"type": "message", "text": "hi", "client_id": "k4", "to": "x"}, 422, "validation-error",
                 ["body.to"]),
            ]  # fmt: skip
            for frame, status, slug, fields in refusals:
                refused = await _said(socket, frame)
                assert refused["client_id"] == frame.get("client_id")
                assert refused["problem"]["status"] == status
                assert refused["problem"]["type"].endswith(slug)
                assert [error["field"] for error in refused["problem"]["errors"]] == fields
            await socket.send("not json")
            garbled = json.loads(await socket.recv())
            assert (garbled["type"], garbled["client_id"], garbled["problem"]["status"]) == ("refused", None, 422)
            oversized = await _said(socket, {"type": "message", "text": "x" * 100_001, "client_id": "k5"})
            assert (oversized["client_id"], oversized["problem"]["status"]) == (None, 413)

        # The answer was lost with the connection: the widget sends it again on a new socket; it is one message.
        async with connect(f"{gateway}{base}/socket?token={token}&after=1", origin=Origin(SITE)) as socket:
            again = await _said(socket, {"type": "message", "text": "Hello over the socket", "client_id": "k1"})
            assert (again["replayed"], again["entry"]["seq"]) == (True, 1)
            second = await _said(socket, {"type": "message", "text": "Second one", "client_id": "k6"})
            assert (second["replayed"], second["entry"]["seq"]) == (False, 2)
            # One idempotency for both ways of writing: the POST of the same client_id is the same message.
            async with httpx.AsyncClient(base_url=served.url) as public:
                posted = await public.post(
                    f"{base}/messages",
                    json={"text": "Hello over the socket", "client_id": "k1"},
                    headers={"Origin": SITE, "X-Widget-Token": token},
                )
                assert (posted.status_code, posted.json()["seq"]) == (200, 1)
            # Past the conversation's rate limit: told to wait, as the POST is.
            for number in range(10):
                answer = await _said(socket, {"type": "message", "text": "more", "client_id": f"r{number}"})
                if answer["type"] == "refused":
                    break
            assert answer["problem"]["status"] == 429
            assert answer["retry_after"] > 0
    async with httpx.AsyncClient(base_url=served.url) as public:
        transcript = await public.get(f"{base}/conversation", headers={"X-Widget-Token": token})
    texts = [entry["text"] for entry in transcript.json()["entries"]]
    assert texts[:2] == ["Hello over the socket", "Second one"]
    assert set(texts[2:]) <= {"more"}
    records = await read_topic(
        kafka_bootstrap, physical(Topic.INTAKE_MESSAGES, served.settings.topic_prefix), expect=len(texts), within=20
    )
    received = [Envelope.from_bytes(record.value) for record in records]
    assert [e.data["text"] for e in received if e.type == "intake.message_received"] == texts


async def _chat_case(served: Any, producer: EventProducer, kafka_bootstrap: str, channel_id: str, token: str) -> str:
    """The visitor writes and case-core's case.created names the chat's case; returns the case id."""
    async with httpx.AsyncClient(base_url=served.url) as public:
        sent = await public.post(
            f"/public/messaging/{channel_id}/messages",
            json={"text": "Hello, anyone?", "client_id": "s1"},
            headers={"Origin": SITE, "X-Widget-Token": token},
        )
        assert sent.status_code == 201, sent.text
    prefix = served.settings.topic_prefix
    records = await read_topic(kafka_bootstrap, physical(Topic.INTAKE_MESSAGES, prefix), expect=1, within=20)
    received = MessageReceived.parse(Envelope.from_bytes(records[0].value))
    now = utcnow()
    snapshot = CaseSnapshot(
        case_id=uuid.uuid4(), number=1, subject="Hello", status="new", priority="normal", channel="messaging",
        created_at=now, updated_at=now, version=1,
    )  # fmt: skip
    created = CaseCreated(case=snapshot, source_intake_id=received.intake_id, actor="case-core")
    await producer.publish(
        physical(Topic.CASE_EVENTS, prefix),
        created.envelope(source="case-core", subject=str(snapshot.case_id)),
        key=str(snapshot.case_id),
    )
    return str(snapshot.case_id)


def _agent(served: Any) -> dict[str, str]:
    token = sign_identity(
        subject=str(uuid.uuid4()),
        role="agent",
        scopes=frozenset({"cases:read", "cases:write"}),
        secret=served.settings.internal_secret,
        now=utcnow(),
        ttl_seconds=3600,
    )
    return {IDENTITY_HEADER: token}


async def _frame(socket: ClientConnection, kind: str) -> dict[str, Any]:
    async with asyncio.timeout(20):
        while True:
            frame: dict[str, Any] = json.loads(await socket.recv())
            if frame["type"] == kind:
                return frame


async def test_typing_and_read_receipts_go_both_ways_between_the_widget_and_the_desk(
    served_service: Any, producer: EventProducer, kafka_bootstrap: str
) -> None:
    served = served_service
    channel = await _widget(served)
    async with httpx.AsyncClient(base_url=served.url) as public:
        token = await _start(public, channel["id"])
    case_id = await _chat_case(served, producer, kafka_bootstrap, channel["id"], token)
    chat_url = f"/api/v1/cases/{case_id}/chat"
    thread_key = f"widget:{channel['id']}:{_cid(served, channel, token)}"
    async with httpx.AsyncClient(base_url=served.url, headers=_agent(served)) as desk:
        state: dict[str, Any] = {}

        def chat_where(ready: Callable[[dict[str, Any]], bool]) -> Callable[[], Awaitable[bool]]:
            async def check() -> bool:
                response = await desk.get(chat_url)
                if response.status_code != 200:
                    return False
                state.update(response.json())
                return ready(state)

            return check

        await eventually(chat_where(lambda s: True), message="the chat's case")
        assert (state["last_seq"], state["visitor_read_seq"], state["agent_read_seq"]) == (1, 0, 0)
        assert not state["visitor_typing"]
        assert not state["agent_typing"]

        async with connect(_socket_url(served, channel["id"], token, after=1), origin=Origin(SITE)) as socket:
            # The visitor types (a socket frame): the desk sees it.
            await socket.send(json.dumps({"type": "typing"}))
            await eventually(chat_where(lambda s: s["visitor_typing"]), message="the visitor typing")
            # An agent types, then reads everything so far: the widget hears both.
            assert (await desk.post(f"{chat_url}/signals", json={"type": "typing"})).status_code == 204
            assert (await _frame(socket, "typing"))["by"] == "agent"
            assert (await desk.post(f"{chat_url}/signals", json={"type": "read"})).status_code == 204
            read = await _frame(socket, "read")
            assert (read["by"], read["seq"]) == ("agent", 1)
            await _reply(producer, served.settings.topic_prefix, thread_key, "Hi!")
            assert (await _next_entry(socket))["seq"] == 2
        # The visitor reads the agent's reply (posted, as a widget without a socket does).
        async with httpx.AsyncClient(base_url=served.url) as public:
            seen = await public.post(
                f"/public/messaging/{channel['id']}/signals",
                json={"type": "read", "seq": 2},
                headers={"Origin": SITE, "X-Widget-Token": token},
            )
            assert seen.status_code == 204, seen.text
            assert seen.headers["access-control-allow-origin"] == SITE
        await eventually(chat_where(lambda s: s["visitor_read_seq"] == 2), message="the visitor's read receipt")
        assert state["agent_read_seq"] == 1

        # The desk's live stream hears both sides (intake.widget_signalled, naming the case).
        records = await read_topic(
            kafka_bootstrap, physical(Topic.INTAKE_MESSAGES, served.settings.topic_prefix), expect=6, within=20
        )
        envelopes = [Envelope.from_bytes(record.value) for record in records]
        signalled = {
            (e.data["by"], e.data["signal"], e.data["case_id"])
            for e in envelopes
            if e.type == "intake.widget_signalled"
        }
        assert signalled >= {
            ("visitor", "typing", case_id),
            ("agent", "typing", case_id),
            ("agent", "read", case_id),
            ("visitor", "read", case_id),
        }

        # Refusals: a signal of no kind, no token, a negative entry, a case that came from no chat, no scope.
        async with httpx.AsyncClient(base_url=served.url) as public:
            bad = await public.post(
                f"/public/messaging/{channel['id']}/signals",
                json={"type": "shouting"},
                headers={"Origin": SITE, "X-Widget-Token": token},
            )
            assert bad.status_code == 422
            assert [e["field"] for e in bad.json()["errors"]] == ["body.type"]
            no_token = await public.post(f"/public/messaging/{channel['id']}/signals", json={"type": "typing"})
            assert no_token.status_code == 401
        negative = await desk.post(f"{chat_url}/signals", json={"type": "read", "seq": -1})
        assert negative.status_code == 422
        unknown = await desk.get(f"/api/v1/cases/{uuid.uuid4()}/chat")
        assert unknown.status_code == 404
        assert unknown.json()["type"].endswith("no-chat")
    forbidden = await served.client.post(f"{chat_url}/signals", json={"type": "typing"})
    assert forbidden.status_code == 403  # the channels scopes only: the desk's cases are not theirs


def _cid(served: Any, channel: dict[str, Any], token: str) -> uuid.UUID:
    return tokens.read(served.settings.widget_token_secret, token, uuid.UUID(channel["id"]), utcnow()).conversation_id


async def test_a_reply_the_visitor_left_unread_is_asked_of_case_core_by_email_once_and_a_read_or_carried_one_is_not(
    served_service: Any, producer: EventProducer, kafka_bootstrap: str
) -> None:
    served = served_service
    prefix = served.settings.topic_prefix
    # The read receipt below comes well within the delay; the worker looks every 5 s.
    channel = await _widget(served, email_unread_after_seconds=3)
    channel_id = channel["id"]
    base = f"/public/messaging/{channel_id}"
    async with httpx.AsyncClient(base_url=served.url, headers={"Origin": SITE}) as public:

        async def visitor(email: str | None, text: str) -> tuple[str, str]:
            started = await public.post(f"{base}/conversations", json={"email": email} if email else {})
            assert started.status_code == 201, started.text
            token: str = started.json()["token"]
            await _write(public, channel_id, token, text)
            return token, f"widget:{channel_id}:{_cid(served, channel, token)}"

        # Read in time: the visitor's read receipt covers the reply.
        read_token, read_key = await visitor("reader@shop.example", "Read it")
        # Carried: an open socket had the reply (the visitor saw the widget), without a read receipt.
        carried_token, carried_key = await visitor("carried@shop.example", "Socket open")
        # No address: nowhere to mail.
        _, nameless_key = await visitor(None, "No email")
        # Gone: an address, no socket, no read receipt.
        _, gone_key = await visitor("gone@shop.example", "I will leave")

        async with connect(_socket_url(served, channel_id, carried_token), origin=Origin(SITE)) as socket:
            await _next_entry(socket)  # the visitor's own message
            await _reply(producer, prefix, carried_key, "Carried to your socket")
            assert (await _next_entry(socket))["text"] == "Carried to your socket"
            await _reply(producer, prefix, read_key, "You read this")
            await _reply(producer, prefix, nameless_key, "Nobody to mail")

            async def read_in_time() -> bool:
                transcript = await public.get(f"{base}/conversation", headers={"X-Widget-Token": read_token})
                if not any(entry["direction"] == "agent" for entry in transcript.json()["entries"]):
                    return False
                said = await public.post(
                    f"{base}/signals", json={"type": "read"}, headers={"X-Widget-Token": read_token}
                )
                assert said.status_code == 204, said.text
                return True

            await eventually(read_in_time, within=20)
            gone = await _reply(producer, prefix, gone_key, "Your parcel left today.")
            # A second replica beside the first: they share the due replies, each taken once.
            async with serve_http(create_app(served.settings)):

                def is_mail(record: Any) -> bool:
                    return Envelope.from_bytes(record.value).type == "case.send_reply_by_email"

                commands = physical(Topic.CASE_COMMANDS, prefix)
                records = await read_topic(kafka_bootstrap, commands, expect=2, within=25, keep=is_mail)
    assert len(records) == 1, "one mail, for the reply the visitor left unread"
    envelope = Envelope.from_bytes(records[0].value)
    mail = SendReplyByEmail.parse(envelope)
    assert mail.case_id == gone.case_id
    assert mail.message_id == gone.outbound_id
    assert mail.to.email == "gone@shop.example"
    assert records[0].key.decode() == str(gone.case_id)


async def test_an_email_delay_that_is_no_number_of_seconds_is_refused_naming_the_field(served_service: Any) -> None:
    served = served_service
    before = (await served.client.get("/api/v1/channels")).json()["items"]
    for delay in (0, -5, "soon", 10**9, 2.5):
        body = {"name": "Acme chat", "config": {"kind": "widget", "brand": "acme", "email_unread_after_seconds": delay}}
        refused = await served.client.post("/api/v1/channels", json=body)
        assert refused.status_code == 422, (delay, refused.text)
        assert any(e["field"].endswith("email_unread_after_seconds") for e in refused.json()["errors"]), refused.text
    assert (await served.client.get("/api/v1/channels")).json()["items"] == before
    # null: never mailed.
    never = await _widget(served, email_unread_after_seconds=None)
    assert never["settings"]["email_unread_after_seconds"] is None


async def test_the_widget_asks_whether_the_chat_is_away_now_and_bad_askers_are_refused(served_service: Any) -> None:
    served = served_service
    today = utcnow().weekday()
    closed = await _widget(
        served,
        business_hours={"time_zone": "UTC", "intervals": [{"day": WEEKDAYS[(today + 3) % 7], "start": "00:00",
                                                          "end": "24:00"}]},
    )  # fmt: skip
    always = await _widget(served)
    async with httpx.AsyncClient(base_url=served.url) as public:
        away = await public.get(f"/public/messaging/{closed['id']}/hours", headers={"Origin": SITE})
        assert away.status_code == 200
        assert away.json() == {"away": True}
        assert away.headers["cache-control"] == "no-store"
        assert away.headers["access-control-allow-origin"] == SITE
        script = await public.get(f"/public/messaging/{closed['id']}/widget.js")
        assert '"hours": true' in script.text
        here = await public.get(f"/public/messaging/{always['id']}/hours")
        assert here.json() == {"away": False}
        # The hours change: the next question has the new answer (nothing cached).
        body = {"name": "Acme chat", "config": {"kind": "widget", "brand": "acme", "allowed_origins": [SITE]}}
        assert (await served.client.put(f"/api/v1/channels/{closed['id']}", json=body)).status_code == 200
        assert (await public.get(f"/public/messaging/{closed['id']}/hours")).json() == {"away": False}
        # No such widget, a foreign site.
        unknown = await public.get(f"/public/messaging/{uuid.uuid4()}/hours")
        assert unknown.status_code == 404
        assert unknown.json()["type"].endswith("widget-not-found")
        foreign = await public.get(f"/public/messaging/{always['id']}/hours", headers={"Origin": EVIL})
        assert foreign.status_code == 403
        assert foreign.json()["type"].endswith("origin-not-allowed")


async def test_a_visitor_sends_files_within_the_forms_limits_and_files_past_them_are_refused_naming_the_field(
    served_service: Any, kafka_bootstrap: str
) -> None:
    served = served_service
    channel = await _widget(served, max_attachment_bytes=1000, max_attachments=2)
    base = f"/public/messaging/{channel['id']}"
    async with httpx.AsyncClient(base_url=served.url) as public:
        script = await public.get(f"{base}/widget.js")
        assert '"maxFiles": 2' in script.text
        assert '"maxFileBytes": 1000' in script.text
        token = await _start(public, channel["id"])
        headers = {"Origin": SITE, "X-Widget-Token": token}

        async def upload(files: list[tuple[str, bytes]], client_id: str = "f1", **more: str) -> httpx.Response:
            return await public.post(
                f"{base}/attachments",
                data={"client_id": client_id, **more},
                files=[("attachments", (name, content, "text/plain")) for name, content in files],
                headers=headers,
            )

        sent = await upload([("receipt.txt", b"paid twice")], text="My receipt")
        assert sent.status_code == 201, sent.text
        assert sent.headers["access-control-allow-origin"] == SITE
        entry = sent.json()
        assert (entry["seq"], entry["text"], entry["client_id"]) == (1, "My receipt", "f1")
        assert entry["attachments"] == [{"filename": "receipt.txt", "content_type": "text/plain", "size": 10}]
        again = await upload([("receipt.txt", b"paid twice")], text="My receipt")
        assert again.status_code == 200
        assert again.headers["idempotent-replayed"] == "true"

        # The case's message carries the file as a form submission's does: by its sha256 in the blob store.
        records = await read_topic(
            kafka_bootstrap, physical(Topic.INTAKE_MESSAGES, served.settings.topic_prefix), expect=1, within=20
        )
        received = MessageReceived.parse(Envelope.from_bytes(records[0].value))
        assert received.text == "My receipt"
        assert [(a.filename, a.size, a.sha256) for a in received.attachments] == [
            ("receipt.txt", 10, hashlib.sha256(b"paid twice").hexdigest())
        ]

        # Refused, each naming the field, storing nothing.
        too_big = await upload([("scan.txt", b"x" * 1001)], client_id="f2")
        assert too_big.status_code == 413, too_big.text
        assert [e["field"] for e in too_big.json()["errors"]] == ["body.attachments"]
        assert too_big.headers["access-control-allow-origin"] == SITE
        too_many = await upload([("a.txt", b"a"), ("b.txt", b"b"), ("c.txt", b"c")], client_id="f3")
        assert too_many.status_code == 409, too_many.text
        assert [e["field"] for e in too_many.json()["errors"]] == ["body.attachments"]
        none = await upload([], client_id="f4")
        assert none.status_code == 422, none.text
        assert [e["field"] for e in none.json()["errors"]] == ["body.attachments"]
        bad_id = await upload([("a.txt", b"a")], client_id="not an id!")
        assert bad_id.status_code == 422, bad_id.text
        assert [e["field"] for e in bad_id.json()["errors"]] == ["body.client_id"]
        as_json = await public.post(f"{base}/attachments", json={"client_id": "f5"}, headers=headers)
        assert as_json.status_code == 415
        forged = await public.post(
            f"{base}/attachments",
            data={"client_id": "f6"},
            files=[("attachments", ("a.txt", b"a", "text/plain"))],
            headers={"Origin": SITE, "X-Widget-Token": "forged"},
        )
        assert forged.status_code == 401
        transcript = await public.get(f"{base}/conversation", headers=headers)
        assert [e["client_id"] for e in transcript.json()["entries"]] == ["f1"]

        no_files = await _widget(served, max_attachments=0)
        other = await _start(public, no_files["id"])
        refused = await public.post(
            f"/public/messaging/{no_files['id']}/attachments",
            data={"client_id": "f7"},
            files=[("attachments", ("a.txt", b"a", "text/plain"))],
            headers={"Origin": SITE, "X-Widget-Token": other},
        )
        assert refused.status_code == 409, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == ["body.attachments"]


# Wake-ups across replicas. A quiet stream reads nothing at its heartbeats while the feed reads
# ``intake.messages`` (every commit, on any replica, is announced there): the feed brings another replica's
# commit to a socket, and a feed that starts reading again wakes every stream (what was committed while it
# was away is read from the database).
async def test_the_feed_wakes_every_stream_when_it_starts_reading_and_then_the_conversation_each_record_names(
    kafka_bootstrap: str, topic_prefix: str, producer: EventProducer
) -> None:
    hub = ConversationHub()
    channel_id, ours, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    woken, not_named = hub.watch(ours), hub.watch(other)
    feed = ConversationFeed(hub, kafka_bootstrap, topic_prefix)
    await feed.start()
    try:
        # No topic to read yet (as before ``omnicase up`` made it): streams read at their heartbeats.
        await asyncio.sleep(0.5)
        assert not hub.complete
        assert not woken.is_set()
        await ensure_suite_topics(kafka_bootstrap, prefix=topic_prefix, partitions=2)
        await eventually(lambda: _complete(hub), within=20, message="the feed reading")
        # Reading from the topic's end: whatever came before is every stream's to read again.
        assert woken.is_set()
        assert not_named.is_set()

        woken.clear()
        not_named.clear()
        topic = physical(Topic.INTAKE_MESSAGES, topic_prefix)
        await producer.send(topic, b"{}", key=thread_key(channel_id, ours).encode())
        await eventually(lambda: _is_set(woken), within=10, message="the named conversation woken")
        assert not not_named.is_set()
    finally:
        await feed.stop()
    assert not hub.complete


async def _complete(hub: ConversationHub) -> bool:
    return hub.complete


async def _is_set(woken: asyncio.Event) -> bool:
    return woken.is_set()


async def test_a_message_written_through_one_replica_reaches_the_socket_open_on_another(
    served_service: Any, service_settings: Any
) -> None:
    served = served_service
    channel = await _widget(served)
    # The second replica: its own process state (hub, feed, pools) on the same database and topics, with a
    # heartbeat far longer than the test, so only the feed can bring it the other replica's message.
    other_settings: IntakeWebSettings = service_settings(
        IntakeWebSettings, case_core_url=served.settings.case_core_url, widget_heartbeat_seconds=600
    )
    async with serve_http(create_app(other_settings)) as other_url, httpx.AsyncClient(base_url=served.url) as public:
        token = await _start(public, channel["id"])
        await _write(public, channel["id"], token, "Hello from the first tab")
        socket_url = f"{other_url.replace('http://', 'ws://', 1)}/public/messaging/{channel['id']}/socket?token={token}"
        async with connect(socket_url, origin=Origin(SITE)) as socket:
            first = await _next_entry(socket)
            assert (first["seq"], first["text"]) == (1, "Hello from the first tab")
            await _write(public, channel["id"], token, "And a second message")
            second = await asyncio.wait_for(_next_entry(socket), 20)
            assert (second["seq"], second["text"]) == (2, "And a second message")
