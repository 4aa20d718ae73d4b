"""Replies on SMS, WhatsApp, Messenger and integrator channels go out through the provider's HTTP API."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import pytest
import pytest_asyncio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from omnicase.devtools.testing.probes import read_topic
from omnicase.devtools.testing.servers import serve_http
from omnicase.intake_web.channels import signatures
from omnicase.kit.bus.producer import EventProducer
from omnicase.kit.clock import utcnow
from omnicase.kit.events import DeliveryReported, Envelope, OutboundMessageRequested, Party
from omnicase.kit.topics import Topic, physical

pytestmark = pytest.mark.asyncio

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@dataclass
class Call:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeProvider:
    """Plays every provider's API: records calls, answers with the next scripted status."""

    url: str = ""
    calls: list[Call] = field(default_factory=list)
    script: dict[str, list[int]] = field(default_factory=dict)

    async def handle(self, request: Request) -> JSONResponse:
        path = request.url.path
        self.calls.append(Call(path, dict(request.headers), await request.body()))
        queue = self.script.get(path, [])
        status = queue.pop(0) if queue else 200
        if status >= 300:
            return JSONResponse({"error": "scripted"}, status_code=status)
        number = len(self.calls)
        if "/Messages.json" in path:
            return JSONResponse({"sid": f"SM{number}"}, status_code=201)
        if path.endswith("/messages"):
            return JSONResponse({"messages": [{"id": f"wamid.{number}"}]})
        if path.endswith("/me/messages"):
            return JSONResponse({"recipient_id": "PSID", "message_id": f"m_{number}"})
        return JSONResponse({"id": f"ext-{number}"})

    def to(self, path: str) -> list[Call]:
        return [call for call in self.calls if call.path == path]


@pytest_asyncio.fixture
async def provider() -> AsyncIterator[FakeProvider]:
    fake = FakeProvider()
    app = Starlette(routes=[Route("/{path:path}", fake.handle, methods=["POST"])])
    async with serve_http(app) as url:
        fake.url = url
        yield fake


FAST = {"delivery_interval_seconds": 0.1, "delivery_backoff_initial_seconds": 0.1}


async def _request(
    producer: EventProducer, prefix: str, channel: str, conversation: str | None, text: str = "Your parcel left today."
) -> OutboundMessageRequested:
    case_id = uuid.uuid4()
    request = OutboundMessageRequested(
        outbound_id=uuid.uuid4(),
        case_id=case_id,
        channel=channel,
        to=[Party(phone="+15551234567")],
        text=text,
        conversation_id=conversation,
    )
    envelope = request.envelope(source="case-core", subject=str(case_id))
    await producer.publish(physical(Topic.OUTBOUND_MESSAGES, prefix), envelope, key=str(case_id))
    return request


async def _reports(kafka_bootstrap: str, prefix: str, expect: int) -> dict[uuid.UUID, DeliveryReported]:
    records = await read_topic(kafka_bootstrap, physical(Topic.INTAKE_MESSAGES, prefix), expect=expect, within=20)
    reports = [DeliveryReported.parse(Envelope.from_bytes(record.value)) for record in records]
    return {report.outbound_id: report for report in reports}


async def test_replies_are_delivered_through_each_provider_and_reported_sent(
    start_service: Any, provider: FakeProvider, producer: EventProducer, kafka_bootstrap: str
) -> None:
    service = await start_service(**FAST)
    prefix = service.settings.topic_prefix
    sms = await service.channel(
        {"kind": "sms", "account_sid": "AC1", "auth_token": "tok", "from_number": "+15005550006",
         "api_base_url": provider.url}
    )  # fmt: skip
    meta = {"app_secret": "s", "verify_token": "v", "access_token": "graph-token", "api_base_url": provider.url}
    whatsapp = await service.channel({"kind": "whatsapp", "phone_number_id": "1065", **meta})
    messenger = await service.channel({"kind": "messenger", "page_id": "PAGE1", **meta})
    generic = await service.channel(
        {"kind": "generic", "secrets": [SECRET], "outbound_url": f"{provider.url}/integrator/replies"}
    )
    requests = [
        await _request(producer, prefix, "sms", f"sms:{sms['id']}:+15551234567"),
        await _request(producer, prefix, "messaging", f"whatsapp:{whatsapp['id']}:16315551181"),
        await _request(producer, prefix, "messaging", f"messenger:{messenger['id']}:PSID7"),
        await _request(producer, prefix, "api", f"generic:{generic['id']}:chat-8812"),
        # Email is intake-email's: left alone, no report from us.
        await _request(producer, prefix, "email", None),
    ]
    reports = await _reports(kafka_bootstrap, prefix, expect=4)
    assert set(reports) == {request.outbound_id for request in requests[:4]}
    assert all(report.status == "sent" for report in reports.values())
    assert reports[requests[0].outbound_id].provider_message_id.startswith("SM")  # type: ignore[union-attr]
    assert reports[requests[1].outbound_id].provider_message_id.startswith("wamid.")  # type: ignore[union-attr]
    assert reports[requests[3].outbound_id].case_id == requests[3].case_id

    [sms_call] = provider.to("/2010-04-01/Accounts/AC1/Messages.json")
    assert sms_call.headers["authorization"] == "Basic " + base64.b64encode(b"AC1:tok").decode()
    assert b"To=%2B15551234567" in sms_call.body
    assert b"From=%2B15005550006" in sms_call.body
    [wa_call] = provider.to("/1065/messages")
    assert wa_call.headers["authorization"] == "Bearer graph-token"
    assert json.loads(wa_call.body)["to"] == "16315551181"
    assert json.loads(wa_call.body)["text"]["body"] == "Your parcel left today."
    [fb_call] = provider.to("/me/messages")
    assert json.loads(fb_call.body)["recipient"] == {"id": "PSID7"}
    [hook_call] = provider.to("/integrator/replies")
    # The integrator can check our call the way we check theirs.
    signatures.verify_standard([SECRET], hook_call.headers, hook_call.body, utcnow(), 300)
    assert json.loads(hook_call.body)["conversation_id"] == "chat-8812"


async def test_transient_failures_are_retried_and_refusals_reported_failed(
    start_service: Any, provider: FakeProvider, producer: EventProducer, kafka_bootstrap: str
) -> None:
    service = await start_service(**FAST, delivery_max_attempts=3)
    prefix = service.settings.topic_prefix
    flaky = await service.channel(
        {"kind": "sms", "account_sid": "ACflaky", "auth_token": "tok", "from_number": "+15005550006",
         "api_base_url": provider.url}
    )  # fmt: skip
    refusing = await service.channel(
        {"kind": "sms", "account_sid": "ACbad", "auth_token": "tok", "from_number": "+15005550006",
         "api_base_url": provider.url}
    )  # fmt: skip
    down = await service.channel(
        {"kind": "sms", "account_sid": "ACdown", "auth_token": "tok", "from_number": "+15005550006",
         "api_base_url": provider.url}
    )  # fmt: skip
    provider.script["/2010-04-01/Accounts/ACflaky/Messages.json"] = [503, 500]
    provider.script["/2010-04-01/Accounts/ACbad/Messages.json"] = [400]
    provider.script["/2010-04-01/Accounts/ACdown/Messages.json"] = [503, 503, 503, 503]
    retried = await _request(producer, prefix, "sms", f"sms:{flaky['id']}:+15551234567")
    refused = await _request(producer, prefix, "sms", f"sms:{refusing['id']}:+15551234567")
    gave_up = await _request(producer, prefix, "sms", f"sms:{down['id']}:+15551234567")
    lost = await _request(producer, prefix, "sms", None)

    reports = await _reports(kafka_bootstrap, prefix, expect=4)
    assert reports[retried.outbound_id].status == "sent"
    assert len(provider.to("/2010-04-01/Accounts/ACflaky/Messages.json")) == 3
    assert reports[refused.outbound_id].status == "failed"
    assert "400" in (reports[refused.outbound_id].error or "")
    assert len(provider.to("/2010-04-01/Accounts/ACbad/Messages.json")) == 1
    assert reports[gave_up.outbound_id].status == "failed"
    assert len(provider.to("/2010-04-01/Accounts/ACdown/Messages.json")) == 3
    assert reports[lost.outbound_id].status == "failed"

    [given_up] = (await service.client.get(f"/api/v1/channels/{down['id']}/deliveries")).json()["items"]
    assert (given_up["status"], given_up["attempts"]) == ("failed", 3)
    assert "503" in given_up["last_error"]
    [recovered] = (await service.client.get(f"/api/v1/channels/{flaky['id']}/deliveries")).json()["items"]
    assert (recovered["status"], recovered["attempts"]) == ("sent", 3)
    assert recovered["provider_message_id"] == reports[retried.outbound_id].provider_message_id


KOREAN = "고객님의 소포가 오늘 출고되었으며 목요일에 도착할 예정입니다. 배송 조회는 문자로 안내해 드리겠습니다. "
CHINESE = "您的包裹今天已从仓库发出，预计星期四送达。如需帮助，请直接回复此短信。"  # noqa: RUF001


def _bodies(calls: list[Call]) -> list[str]:
    return [parse_qs(call.body.decode())["Body"][0] for call in calls]


async def test_long_sms_replies_go_out_whole_concatenated_or_split_or_are_refused_with_the_reason(
    start_service: Any, provider: FakeProvider, producer: EventProducer, kafka_bootstrap: str
) -> None:
    service = await start_service(**FAST)
    prefix = service.settings.topic_prefix
    base = {"kind": "sms", "auth_token": "tok", "from_number": "+15005550006", "api_base_url": provider.url}
    twilio = await service.channel({**base, "account_sid": "ACcat"})
    plain = await service.channel({**base, "account_sid": "ACplain", "concatenation": "none"})
    english = ("Your parcel left our warehouse today and should arrive on Thursday. " * 3).strip()
    chinese = CHINESE * 3
    korean = (KOREAN * 3).strip()
    too_long = CHINESE * 50
    whole = await _request(producer, prefix, "sms", f"sms:{twilio['id']}:+15551234567", text=chinese)
    long_english = await _request(producer, prefix, "sms", f"sms:{twilio['id']}:+15551234568", text=english)
    split = await _request(producer, prefix, "sms", f"sms:{plain['id']}:+15551234567", text=korean)
    refused = await _request(producer, prefix, "sms", f"sms:{twilio['id']}:+15551234569", text=too_long)

    reports = await _reports(kafka_bootstrap, prefix, expect=4)
    assert [reports[r.outbound_id].status for r in (whole, long_english, split)] == ["sent", "sent", "sent"]
    # The concatenating provider gets each reply whole, in one call.
    assert sorted(_bodies(provider.to("/2010-04-01/Accounts/ACcat/Messages.json"))) == sorted([chinese, english])
    # The other gets separate SMS, in order, each within one UCS-2 SMS.
    parts = _bodies(provider.to("/2010-04-01/Accounts/ACplain/Messages.json"))
    assert len(parts) == 3
    assert all(len(part) <= 70 for part in parts)
    assert "".join(parts).replace(" ", "") == korean.replace(" ", "")
    # Too long for the provider: refused before any call, with the reason.
    assert reports[refused.outbound_id].status == "failed"
    assert f"{len(too_long)} characters" in (reports[refused.outbound_id].error or "")
    assert "at most 1600" in (reports[refused.outbound_id].error or "")

    listed = (await service.client.get(f"/api/v1/channels/{twilio['id']}/deliveries")).json()["items"]
    recorded = {item["outbound_id"]: (item["sms_encoding"], item["sms_segments"]) for item in listed}
    assert recorded[str(whole.outbound_id)] == ("UCS-2", 2)
    assert recorded[str(long_english.outbound_id)] == ("GSM-7", 2)
    [split_delivery] = (await service.client.get(f"/api/v1/channels/{plain['id']}/deliveries")).json()["items"]
    assert (split_delivery["sms_encoding"], split_delivery["sms_segments"]) == ("UCS-2", 3)


async def test_a_split_sms_reply_that_fails_midway_resumes_without_sending_a_part_twice(
    start_service: Any, provider: FakeProvider, producer: EventProducer, kafka_bootstrap: str
) -> None:
    service = await start_service(**FAST)
    prefix = service.settings.topic_prefix
    plain = await service.channel(
        {"kind": "sms", "account_sid": "ACmid", "auth_token": "tok", "from_number": "+15005550006",
         "api_base_url": provider.url, "concatenation": "none"}
    )  # fmt: skip
    provider.script["/2010-04-01/Accounts/ACmid/Messages.json"] = [200, 503]
    text = (KOREAN * 3).strip()
    request = await _request(producer, prefix, "sms", f"sms:{plain['id']}:+15551234567", text=text)

    report = (await _reports(kafka_bootstrap, prefix, expect=1))[request.outbound_id]
    assert report.status == "sent"
    bodies = _bodies(provider.to("/2010-04-01/Accounts/ACmid/Messages.json"))
    # First part once, second part refused then sent, third part once.
    assert len(bodies) == 4
    assert bodies[1] == bodies[2]
    assert len(set(bodies)) == 3
