"""The forms' spam rules for the chat widget, at a conversation's start: a filled honeypot is answered as if
accepted and the conversation's messages are held as spam for case-core's suspended-messages queue (where
forms' held submissions go), never a case; a conversation begun too fast, with no or a forged fill-time token,
or without the captcha passed (the forms' captcha client, against a local server speaking the providers'
siteverify) is refused naming the field, storing nothing; the captcha secret is write-only and sealed."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from omnicase.devtools.testing.probes import read_topic
from omnicase.devtools.testing.servers import serve_http
from omnicase.intake_web.forms import tokens as form_tokens
from omnicase.intake_web.models import channels
from omnicase.kit.clock import utcnow
from omnicase.kit.events import Envelope, MessageHeld
from omnicase.kit.topics import Topic, physical

pytestmark = pytest.mark.asyncio

SITE = "https://shop.example"


async def _widget(service: Any, spam: dict[str, Any]) -> str:
    channel = await service.channel({"kind": "widget", "brand": "acme", "allowed_origins": [SITE], "spam": spam})
    channel_id: str = channel["id"]
    return channel_id


async def _script_ts(service: Any, channel_id: str) -> str:
    script = (await service.public.get(f"/public/messaging/{channel_id}/widget.js")).text
    found = re.search(r'"ts": "([^"]+)"', script)
    assert found is not None, script[:400]
    return found.group(1)


def _fields(response: httpx.Response) -> list[str]:
    return [error["field"] for error in response.json().get("errors", [])]


async def test_a_bot_that_fills_the_honeypot_chats_as_if_accepted_and_its_messages_are_held_as_spam(
    service: Any, kafka_bootstrap: str
) -> None:
    channel_id = await _widget(service, {"honeypot_field": "company_site", "min_fill_seconds": 0})
    script = (await service.public.get(f"/public/messaging/{channel_id}/widget.js")).text
    assert '"honeypot": "company_site"' in script
    base = f"/public/messaging/{channel_id}"
    started = await service.public.post(
        f"{base}/conversations", json={"honeypot": "http://cheap.example"}, headers={"Origin": SITE}
    )
    assert started.status_code == 201, started.text
    headers = {"Origin": SITE, "X-Widget-Token": started.json()["token"]}
    sent = await service.public.post(
        f"{base}/messages", json={"text": "Cheap watches!", "client_id": "s1"}, headers=headers
    )
    assert sent.status_code == 201, sent.text

    (message,) = await service.channel_messages(channel_id)
    assert (message["status"], message["text"]) == ("held", "Cheap watches!")
    records = await read_topic(
        kafka_bootstrap,
        physical(Topic.INTAKE_MESSAGES, service.settings.topic_prefix),
        expect=1,
        keep=lambda record: b"Cheap watches" in record.value,
    )
    envelope = Envelope.from_bytes(records[0].value)
    assert envelope.type == "intake.message_held", "held for case-core's suspended-messages queue, as forms' spam"
    held = MessageHeld.parse(envelope)
    assert held.reason == "spam"
    assert "company_site" in held.detail

    # A person (the honeypot left empty) chats as usual.
    person = await service.public.post(f"{base}/conversations", json={}, headers={"Origin": SITE})
    assert person.status_code == 201
    written = await service.public.post(
        f"{base}/messages",
        json={"text": "Hello", "client_id": "p1"},
        headers={"Origin": SITE, "X-Widget-Token": person.json()["token"]},
    )
    assert written.status_code == 201
    statuses = sorted(m["status"] for m in await service.channel_messages(channel_id))
    assert statuses == ["held", "pending"]


async def test_a_chat_begun_too_fast_or_without_its_token_is_refused_naming_the_field(service: Any) -> None:
    channel_id = await _widget(service, {"min_fill_seconds": 5})
    base = f"/public/messaging/{channel_id}/conversations"
    missing = await service.public.post(base, json={}, headers={"Origin": SITE})
    assert missing.status_code == 400
    assert missing.json()["type"].endswith("/form-token-invalid")
    assert _fields(missing) == ["body.ts"]
    assert missing.headers["access-control-allow-origin"] == SITE
    forged = await service.public.post(base, json={"ts": "123.abc"}, headers={"Origin": SITE})
    assert forged.status_code == 400
    assert _fields(forged) == ["body.ts"]
    another = form_tokens.issue(service.settings.form_token_secret, uuid.uuid4(), utcnow() - timedelta(minutes=1))
    assert (await service.public.post(base, json={"ts": another}, headers={"Origin": SITE})).status_code == 400
    fast = await service.public.post(base, json={"ts": await _script_ts(service, channel_id)}, headers={"Origin": SITE})
    assert fast.status_code == 400
    assert fast.json()["type"].endswith("/submitted-too-fast")
    assert int(fast.headers["retry-after"]) >= 1
    aged = form_tokens.issue(service.settings.form_token_secret, uuid.UUID(channel_id), utcnow() - timedelta(seconds=6))
    ok = await service.public.post(base, json={"ts": aged}, headers={"Origin": SITE})
    assert ok.status_code == 201, ok.text
    bad = await service.public.post(base, json={"ts": 5}, headers={"Origin": SITE})
    assert bad.status_code == 422
    assert _fields(bad) == ["body.ts"]
    assert await service.channel_messages(channel_id) == []


async def test_the_captcha_is_checked_with_the_provider_and_its_secret_is_never_shown(service: Any) -> None:
    asked: list[dict[str, str]] = []
    down = False

    async def siteverify(request: Request) -> JSONResponse:
        if down:
            return JSONResponse({"error": "unavailable"}, status_code=503)
        form = await request.form()
        asked.append({key: str(value) for key, value in form.items()})
        return JSONResponse({"success": form.get("response") == "good-token", "error-codes": []})

    provider = Starlette(routes=[Route("/siteverify", siteverify, methods=["POST"])])
    async with serve_http(provider) as provider_url:
        captcha = {
            "provider": "turnstile",
            "site_key": "site-key-1",
            "secret": "widget-captcha-secret",
            "siteverify_url": f"{provider_url}/siteverify",
        }
        channel_id = await _widget(service, {"min_fill_seconds": 0, "captcha": captcha})
        shown = await service.client.get(f"/api/v1/channels/{channel_id}")
        assert shown.json()["settings"]["spam"]["captcha"] == {
            "provider": "turnstile",
            "site_key": "site-key-1",
            "siteverify_url": f"{provider_url}/siteverify",
            "secret_set": True,
        }
        script = (await service.public.get(f"/public/messaging/{channel_id}/widget.js")).text
        assert '"siteKey": "site-key-1"' in script
        assert '"field": "cf-turnstile-response"' in script
        assert "widget-captcha-secret" not in script

        base = f"/public/messaging/{channel_id}/conversations"
        missing = await service.public.post(base, json={}, headers={"Origin": SITE})
        assert missing.status_code == 400
        assert missing.json()["type"].endswith("/captcha-failed")
        assert _fields(missing) == ["body.captcha"]
        failed = await service.public.post(base, json={"captcha": "bad-token"}, headers={"Origin": SITE})
        assert failed.status_code == 400
        assert _fields(failed) == ["body.captcha"]
        passed = await service.public.post(base, json={"captcha": "good-token"}, headers={"Origin": SITE})
        assert passed.status_code == 201, passed.text
        down = True
        unavailable = await service.public.post(base, json={"captcha": "good-token"}, headers={"Origin": SITE})
        assert unavailable.status_code == 503
        assert unavailable.json()["type"].endswith("/captcha-unavailable")
    assert asked[-1]["secret"] == "widget-captcha-secret", "the provider gets the secret, opened from its sealed token"
    async with service.app.state.runtime.database.unit_of_work() as session:
        config = await session.scalar(select(channels.c.config).where(channels.c.id == uuid.UUID(channel_id)))
    stored = config["settings"]["spam"]["captcha"]["secret"]
    assert stored.startswith("omnicase:v1:"), "a database dump shows a sealed token"
    assert "widget-captcha-secret" not in str(config)
    assert await service.channel_messages(channel_id) == []
