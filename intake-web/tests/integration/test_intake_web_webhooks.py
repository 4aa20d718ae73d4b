"""Signed webhooks from SMS, WhatsApp, Messenger and integrators become threaded inbound messages."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from omnicase.devtools.testing.plugin import eventually
from omnicase.devtools.testing.probes import read_topic
from omnicase.devtools.testing.servers import serve_http
from omnicase.intake_web.channels import signatures
from omnicase.intake_web.models import channels
from omnicase.kit.events import Envelope, HoldReason, MessageHeld, MessageReceived
from omnicase.kit.topics import Topic, physical

# One service for the module: every test works on forms or channels of its own.
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture
def service(shared_service: Any) -> Any:
    return shared_service


SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NEW_SECRET = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"


def _signed(body: bytes, secret: str = SECRET, msg_id: str | None = None, at: float | None = None) -> dict[str, str]:
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(at if at is not None else time.time())
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signatures.standard_signature(secret, msg_id, timestamp, body),
    }


def _message(conversation: str = "chat-8812", text: str = "My parcel never arrived.") -> bytes:
    return json.dumps(
        {"conversation_id": conversation, "sender": {"name": "Jane", "email": "jane@example.com"}, "text": text}
    ).encode()


def _errors(response: Any) -> dict[str, str]:
    return {error["field"]: error["code"] for error in response.json().get("errors", [])}


async def test_a_signed_integrator_message_is_stored_once_and_threaded_by_conversation(
    service: Any, kafka_bootstrap: str
) -> None:
    channel = await service.channel({"kind": "generic", "secrets": [SECRET]}, defaults={"tags": ["partner"]})
    assert "secrets" not in channel["settings"]
    assert SECRET not in json.dumps(channel)
    url = f"/public/channels/{channel['id']}/webhook"
    assert channel["webhook_url"] == f"http://service{url}"

    body = _message()
    headers = _signed(body)
    accepted = await service.public.post(url, content=body, headers=headers)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["status"] == "accepted"
    # The integrator retries the same delivery: dropped by its webhook id.
    replayed = await service.public.post(url, content=body, headers=headers)
    assert replayed.status_code == 200
    assert replayed.json() == {"status": "duplicate", "message_ids": []}
    follow_up = _message(text="Any news?")
    assert (await service.public.post(url, content=follow_up, headers=_signed(follow_up))).status_code == 202

    topic = physical(Topic.INTAKE_MESSAGES, service.settings.topic_prefix)
    thread = f"generic:{channel['id']}:chat-8812"
    records: list[Any] = []

    async def both_arrived() -> bool:
        everything = await read_topic(kafka_bootstrap, topic, expect=2, within=5)
        records[:] = [record for record in everything if record.key == thread.encode()]
        return len(records) >= 2

    await eventually(both_arrived, within=15, message="both messages on intake.messages")
    messages = [MessageReceived.parse(Envelope.from_bytes(record.value)) for record in records]
    assert [m.text for m in messages] == ["My parcel never arrived.", "Any news?"]
    assert {m.thread_key for m in messages} == {thread}
    assert messages[0].channel == "api"
    assert messages[0].sender.email == "jane@example.com"
    assert messages[0].defaults.tags == ["partner"]


async def test_a_blocked_sender_is_held_as_spam_while_everyone_else_opens_cases(
    service: Any, kafka_bootstrap: str
) -> None:
    channel = await service.channel(
        {"kind": "generic", "secrets": [SECRET]}, blocked_senders=["Spammer@Example.com", "+15005550199"]
    )
    assert channel["blocked_senders"] == ["+15005550199", "spammer@example.com"]
    url = f"/public/channels/{channel['id']}/webhook"
    conversation = f"chat-{uuid.uuid4().hex[:8]}"

    def from_(sender: dict[str, str], text: str) -> bytes:
        return json.dumps({"conversation_id": conversation, "sender": sender, "text": text}).encode()

    spam = from_({"email": "SPAMMER@example.com"}, "Cheap watches")
    texted = from_({"phone": "+15005550199"}, "Cheap watches again")
    good = from_({"email": "jane@example.com"}, "My parcel never arrived.")
    for body in (spam, texted, good):
        answer = await service.public.post(url, content=body, headers=_signed(body))
        # The integrator is answered as for any message: nothing is refused, nothing to retry.
        assert answer.status_code == 202, answer.text

    stored = {item["text"]: item["status"] for item in await service.channel_messages(channel["id"])}
    assert stored == {"Cheap watches": "held", "Cheap watches again": "held", "My parcel never arrived.": "pending"}
    topic = physical(Topic.INTAKE_MESSAGES, service.settings.topic_prefix)
    thread = f"generic:{channel['id']}:{conversation}".encode()
    records: list[Envelope] = []

    async def all_published() -> bool:
        everything = await read_topic(kafka_bootstrap, topic, expect=3, within=5)
        records[:] = [Envelope.from_bytes(record.value) for record in everything if record.key == thread]
        return len(records) >= 3

    await eventually(all_published, within=15, message="the three messages on intake.messages")
    held = [MessageHeld.parse(envelope) for envelope in records if envelope.type == "intake.message_held"]
    assert sorted((h.message.text, h.reason, h.detail) for h in held) == [
        ("Cheap watches", HoldReason.SPAM, "sender SPAMMER@example.com is on the channel's blocklist"),
        ("Cheap watches again", HoldReason.SPAM, "sender +15005550199 is on the channel's blocklist"),
    ]
    assert [envelope.type for envelope in records].count("intake.message_received") == 1


async def _rejections(service: Any, reason: str) -> float:
    metrics = (await service.public.get("/metrics")).text
    line = f'omnicase_intake_web_rejections_total{{channel="generic",reason="{reason}"}} '
    return sum(float(row[len(line) :]) for row in metrics.splitlines() if row.startswith(line))


async def test_bad_signatures_stale_timestamps_and_bad_payloads_are_refused_and_leave_nothing(service: Any) -> None:
    before = {reason: await _rejections(service, reason) for reason in ("signature", "timestamp", "invalid")}
    channel = await service.channel({"kind": "generic", "secrets": [SECRET]})
    url = f"/public/channels/{channel['id']}/webhook"
    body = _message()

    forged = await service.public.post(url, content=body, headers=_signed(body, secret=NEW_SECRET))
    assert forged.status_code == 401
    assert forged.json()["type"].endswith("/bad-signature")
    tampered = _signed(body)
    assert (await service.public.post(url, content=body + b" ", headers=tampered)).status_code == 401
    # Well past the 300 s tolerance either way: the header's whole seconds drop up to one, and the
    # request's own time on a busy machine takes more off a time in the future (301 was a flake).
    stale = await service.public.post(url, content=body, headers=_signed(body, at=time.time() - 330))
    assert stale.status_code == 401
    future = await service.public.post(url, content=body, headers=_signed(body, at=time.time() + 330))
    assert future.status_code == 401
    unsigned = await service.public.post(url, content=body, headers={"content-type": "application/json"})
    assert unsigned.status_code == 401

    invalid = json.dumps({"conversation_id": "c 1", "sender": {"name": "No address"}, "text": ""}).encode()
    refused = await service.public.post(url, content=invalid, headers=_signed(invalid))
    assert refused.status_code == 422
    assert set(_errors(refused)) == {"body.conversation_id", "body.sender", "body.text"}

    assert await service.channel_messages(channel["id"]) == []
    assert await _rejections(service, "signature") == before["signature"] + 3  # forged, tampered, unsigned
    assert await _rejections(service, "timestamp") == before["timestamp"] + 2
    assert await _rejections(service, "invalid") == before["invalid"] + 1


async def test_both_secrets_are_accepted_while_a_secret_is_rotated(service: Any) -> None:
    channel = await service.channel({"kind": "generic", "secrets": [SECRET]})
    url = f"/public/channels/{channel['id']}/webhook"
    rotating = {"name": "generic channel", "config": {"kind": "generic", "secrets": [NEW_SECRET, SECRET]}}
    assert (await service.client.put(f"/api/v1/channels/{channel['id']}", json=rotating)).status_code == 200
    for secret in (SECRET, NEW_SECRET):
        body = _message(text=f"signed with {secret[-4:]}")
        assert (await service.public.post(url, content=body, headers=_signed(body, secret=secret))).status_code == 202
    done = {"name": "generic channel", "config": {"kind": "generic", "secrets": [NEW_SECRET]}}
    assert (await service.client.put(f"/api/v1/channels/{channel['id']}", json=done)).status_code == 200
    body = _message(text="old secret")
    assert (await service.public.post(url, content=body, headers=_signed(body))).status_code == 401
    assert len(await service.channel_messages(channel["id"])) == 2


async def _stored_settings(service: Any, channel_id: str) -> dict[str, Any]:
    async with service.app.state.runtime.database.unit_of_work() as session:
        config = await session.scalar(select(channels.c.config).where(channels.c.id == uuid.UUID(channel_id)))
    settings: dict[str, Any] = config["settings"]
    return settings


async def test_channel_secrets_are_stored_sealed_and_older_plain_ones_are_sealed_by_the_pass(service: Any) -> None:
    channel = await service.channel(
        {"kind": "sms", "account_sid": "AC9", "auth_token": "sms-token-9", "from_number": "+15005550006"}
    )
    stored = await _stored_settings(service, channel["id"])
    assert stored["auth_token"].startswith("omnicase:v1:"), "a database dump shows a sealed token"
    assert "sms-token-9" not in json.dumps(stored)
    assert stored["account_sid"] == "AC9", "only the secrets are sealed"
    assert "auth_token" not in channel["settings"]

    generic = await service.channel({"kind": "generic", "secrets": [SECRET, NEW_SECRET]})
    url = f"/public/channels/{generic['id']}/webhook"
    sealed = await _stored_settings(service, generic["id"])
    assert all(value.startswith("omnicase:v1:") for value in sealed["secrets"])
    async with service.app.state.runtime.database.unit_of_work() as session:
        # As a row written before this version: the plain secrets in the JSON.
        config = {"settings": {"kind": "generic", "secrets": [SECRET, NEW_SECRET]}, "defaults": {}}
        await session.execute(channels.update().where(channels.c.id == uuid.UUID(generic["id"])).values(config=config))
    body = _message(text="signed before sealing")
    assert (await service.public.post(url, content=body, headers=_signed(body))).status_code == 202
    secrets = service.app.state.runtime.state.channel_secrets
    async with service.app.state.runtime.database.unit_of_work() as session:
        assert await secrets.reseal(session) >= 1
    resealed = await _stored_settings(service, generic["id"])
    assert all(value.startswith("omnicase:v1:") for value in resealed["secrets"])
    for secret in (SECRET, NEW_SECRET):
        body = _message(text=f"signed after sealing with {secret[-4:]}")
        assert (await service.public.post(url, content=body, headers=_signed(body, secret=secret))).status_code == 202
    body = _message(text="forged")
    forged = await service.public.post(url, content=body, headers=_signed(body, secret="whsec_" + "A" * 32))
    assert forged.status_code == 401


async def test_an_sms_webhook_is_checked_against_the_provider_signature(service: Any) -> None:
    config = {"kind": "sms", "account_sid": "AC123", "auth_token": "sms-token", "from_number": "+15005550006"}
    channel = await service.channel(config)
    url = f"/public/channels/{channel['id']}/webhook"
    params = [("MessageSid", "SM1"), ("From", "+15551234567"), ("To", "+15005550006"), ("Body", "Where is my order?")]
    signature = signatures.twilio_signature("sms-token", channel["webhook_url"], params)
    headers = {"X-Twilio-Signature": signature}
    accepted = await service.public.post(url, data=dict(params), headers=headers)
    assert accepted.status_code == 200
    assert accepted.headers["content-type"].startswith("text/xml")
    assert (await service.public.post(url, data=dict(params), headers=headers)).status_code == 200  # provider retry
    bad = await service.public.post(url, data={**dict(params), "Body": "changed"}, headers=headers)
    assert bad.status_code == 401
    [message] = await service.channel_messages(channel["id"])
    assert message["text"] == "Where is my order?"
    assert message["sender"]["phone"] == "+15551234567"
    assert message["thread_key"] == f"sms:{channel['id']}:+15551234567"


async def test_whatsapp_verifies_its_webhook_and_posts_signed_messages(service: Any) -> None:
    config = {
        "kind": "whatsapp",
        "app_secret": "wa-secret",
        "verify_token": "wa-verify",
        "access_token": "wa-access",
        "phone_number_id": "1065",
    }
    channel = await service.channel(config)
    url = f"/public/channels/{channel['id']}/webhook"
    challenge = {"hub.mode": "subscribe", "hub.verify_token": "wa-verify", "hub.challenge": "1158201444"}
    verified = await service.public.get(url, params=challenge)
    assert (verified.status_code, verified.text) == (200, "1158201444")
    wrong = await service.public.get(url, params={**challenge, "hub.verify_token": "guess"})
    assert wrong.status_code == 403

    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "15550001065", "phone_number_id": "1065"},
                            "contacts": [{"profile": {"name": "Kerry"}, "wa_id": "16315551181"}],
                            "messages": [
                                {
                                    "from": "16315551181",
                                    "id": "wamid.ABC",
                                    "timestamp": "1700000000",
                                    "type": "text",
                                    "text": {"body": "My order is late"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    body = json.dumps(payload).encode()
    signed = {"content-type": "application/json", "X-Hub-Signature-256": signatures.meta_signature("wa-secret", body)}
    accepted = await service.public.post(url, content=body, headers=signed)
    assert accepted.status_code == 200, accepted.text  # Meta wants exactly 200
    assert accepted.json()["status"] == "accepted"
    bad = {**signed, "X-Hub-Signature-256": signatures.meta_signature("other", body)}
    assert (await service.public.post(url, content=body, headers=bad)).status_code == 401
    statuses = json.dumps({"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {}}]}]}).encode()
    ignored = await service.public.post(
        url, content=statuses, headers={"X-Hub-Signature-256": signatures.meta_signature("wa-secret", statuses)}
    )
    assert ignored.json()["status"] == "ignored"
    [message] = await service.channel_messages(channel["id"])
    assert message["text"] == "My order is late"
    assert message["sender"]["name"] == "Kerry"
    assert message["thread_key"] == f"whatsapp:{channel['id']}:16315551181"


async def test_messenger_messages_are_stored_and_echoes_of_our_replies_are_not(service: Any) -> None:
    config = {
        "kind": "messenger",
        "app_secret": "fb-secret",
        "verify_token": "fb-verify",
        "access_token": "fb-access",
        "page_id": "PAGE1",
    }
    channel = await service.channel(config)
    url = f"/public/channels/{channel['id']}/webhook"
    event = {"sender": {"id": "PSID7"}, "recipient": {"id": "PAGE1"}, "timestamp": 1700000000000}
    payload = {
        "object": "page",
        "entry": [
            {
                "id": "PAGE1",
                "messaging": [
                    {**event, "message": {"mid": "m_1", "text": "Hello?"}},
                    {**event, "message": {"mid": "m_2", "text": "our reply", "is_echo": True}},
                ],
            }
        ],
    }
    body = json.dumps(payload).encode()
    headers = {"X-Hub-Signature-256": signatures.meta_signature("fb-secret", body)}
    assert (await service.public.post(url, content=body, headers=headers)).status_code == 200
    [message] = await service.channel_messages(channel["id"])
    assert message["text"] == "Hello?"
    assert message["thread_key"] == f"messenger:{channel['id']}:PSID7"


async def test_channels_are_configured_by_admins_with_checked_settings(service: Any) -> None:
    bad = await service.client.post(
        "/api/v1/channels",
        json={"name": "x", "config": {"kind": "generic", "secrets": ["not-a-secret", SECRET, SECRET]}},
    )
    assert bad.status_code == 422
    assert "body.config.generic.secrets" in {error["field"] for error in bad.json()["errors"]}
    sms = await service.client.post(
        "/api/v1/channels",
        json={"name": "x", "config": {"kind": "sms", "account_sid": "AC", "auth_token": "t", "from_number": "555"}},
    )
    assert sms.status_code == 422
    assert "body.config.sms.from_number" in {error["field"] for error in sms.json()["errors"]}
    assert (await service.public.get("/api/v1/channels")).status_code == 401

    channel = await service.channel({"kind": "generic", "secrets": [SECRET]})
    listed = (await service.client.get("/api/v1/channels", params={"limit": 200})).json()["items"]
    assert channel["id"] in [item["id"] for item in listed]
    assert (await service.client.delete(f"/api/v1/channels/{channel['id']}")).status_code == 204
    gone = await service.public.post(
        f"/public/channels/{channel['id']}/webhook", content=_message(), headers=_signed(_message())
    )
    assert gone.status_code == 404


class MediaHost:
    """Plays the providers' file hosting: the Graph API media lookup and the files themselves."""

    def __init__(self) -> None:
        self.available = True
        self.requests: list[tuple[str, str | None]] = []

    async def handle(self, request: Request) -> Response:
        self.requests.append((request.url.path, request.headers.get("authorization")))
        if not self.available:
            return Response(status_code=500)
        if request.url.path == "/media-7":  # WhatsApp: a media id resolves to a download URL
            return JSONResponse({"url": f"{request.base_url}files/photo.jpg", "mime_type": "image/jpeg"})
        return Response(b"\xff\xd8 jpeg bytes", media_type="image/jpeg")


async def test_files_sent_over_sms_and_whatsapp_are_fetched_and_attached(service: Any) -> None:
    host = MediaHost()
    async with serve_http(Starlette(routes=[Route("/{path:path}", host.handle)])) as host_url:
        sms = await service.channel(
            {"kind": "sms", "account_sid": "ACm", "auth_token": "tok", "from_number": "+15005550006"}
        )
        url = f"/public/channels/{sms['id']}/webhook"
        params = [
            ("MessageSid", "MM1"), ("From", "+15557654321"), ("Body", "See photo"), ("NumMedia", "1"),
            ("MediaUrl0", f"{host_url}/files/mms.jpg"), ("MediaContentType0", "image/jpeg"),
        ]  # fmt: skip
        headers = {"X-Twilio-Signature": signatures.twilio_signature("tok", sms["webhook_url"], params)}
        host.available = False
        # The file cannot be fetched yet: the provider is asked to retry, nothing is stored.
        refused = await service.public.post(url, data=dict(params), headers=headers)
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "30"
        assert await service.channel_messages(sms["id"]) == []
        host.available = True
        assert (await service.public.post(url, data=dict(params), headers=headers)).status_code == 200
        assert host.requests[-1] == ("/files/mms.jpg", "Basic " + base64.b64encode(b"ACm:tok").decode())

        whatsapp = await service.channel(
            {"kind": "whatsapp", "app_secret": "s", "verify_token": "v", "access_token": "graph",
             "phone_number_id": "77", "api_base_url": host_url}
        )  # fmt: skip
        image = {"from": "4915112345", "id": "wamid.IMG", "type": "image",
                 "image": {"id": "media-7", "mime_type": "image/jpeg", "caption": "Broken lid"}}  # fmt: skip
        payload = {"entry": [{"changes": [{"value": {"metadata": {"phone_number_id": "77"}, "messages": [image]}}]}]}
        body = json.dumps(payload).encode()
        signed = {"X-Hub-Signature-256": signatures.meta_signature("s", body)}
        assert (
            await service.public.post(f"/public/channels/{whatsapp['id']}/webhook", content=body, headers=signed)
        ).status_code == 200
        assert host.requests[-2:] == [("/media-7", "Bearer graph"), ("/files/photo.jpg", "Bearer graph")]

    [mms] = await service.channel_messages(sms["id"])
    [photo] = await service.channel_messages(whatsapp["id"])
    assert photo["text"] == "Broken lid"
    for message in (mms, photo):
        [attachment] = message["attachments"]
        assert attachment["content_type"] == "image/jpeg"
        assert attachment["size"] == len(b"\xff\xd8 jpeg bytes")
        assert attachment["sha256"] == hashlib.sha256(b"\xff\xd8 jpeg bytes").hexdigest()
