"""Voice channels: a Twilio-compatible provider's signed call webhooks become the caller's messages (issue 25).

The provider is played by the test: it posts form-encoded call webhooks signed as Twilio
documents, with a signer written here from Twilio's description (and checked against
Twilio's published example), not with the service's own code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from sqlalchemy import select, update

from omnicase.devtools.testing.apps import running, served
from omnicase.devtools.testing.clock import installed_clock
from omnicase.devtools.testing.plugin import BrandDesk, eventually
from omnicase.devtools.testing.probes import read_topic
from omnicase.intake_web.app import create_app as create_intake_web
from omnicase.intake_web.models import voice_calls, voice_channels
from omnicase.intake_web.settings import IntakeWebSettings
from omnicase.intake_web.voice.schemas import DEFAULT_AFTER_HOURS_MESSAGE
from omnicase.kit.bus.producer import EventProducer
from omnicase.kit.clock import utcnow
from omnicase.kit.events import (
    CallAnswered,
    CallCallbackRequested,
    CallEnded,
    CallStarted,
    CallVoicemailRecorded,
    CallVoicemailTranscribed,
    CaseCreated,
    CaseSnapshot,
    ChangeCase,
    Envelope,
    EventData,
    MessageReceived,
)
from omnicase.kit.identity import IDENTITY_HEADER, sign_identity
from omnicase.kit.topics import Topic, physical
from omnicase.ops.topics import ensure_suite_topics
from omnicase.sla_engine.app import create_app as create_sla_engine
from omnicase.sla_engine.settings import SlaEngineSettings

pytestmark = pytest.mark.asyncio(loop_scope="module")

TOKEN = "voice-auth-token-0123"
NUMBER = "+15005550006"
CALLER = "+14155550100"


@pytest.fixture
def service(shared_service: Any) -> Any:
    return shared_service


def twilio_signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    """Twilio's documented algorithm: the full URL, then each POST parameter's name and value in
    name order, HMAC-SHA1 with the auth token, base64."""
    signed = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    return base64.b64encode(hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()).decode()


async def test_the_test_signer_reproduces_twilios_published_example() -> None:
    # The example of Twilio's webhook security documentation (auth token 12345).
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675309",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert twilio_signature("12345", url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


async def _voice_channel(service: Any, **overrides: Any) -> dict[str, Any]:
    body = {
        "name": "Support line",
        "account_sid": "AC0123456789abcdef",
        "auth_token": TOKEN,
        "phone_numbers": [NUMBER],
        "brand": "acme",
        "greeting": "Thanks for calling Acme & Co. Please leave a message.",
        "defaults": {"tags": ["phone"]},
        **overrides,
    }
    response = await service.client.post("/api/v1/voice/channels", json=body)
    assert response.status_code == 201, response.text
    channel: dict[str, Any] = response.json()
    return channel


def _call(call_sid: str, caller: str = CALLER, **more: str) -> dict[str, str]:
    return {
        "AccountSid": "AC0123456789abcdef",
        "CallSid": call_sid,
        "From": caller,
        "To": NUMBER,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
        **more,
    }


async def _post(service: Any, url: str, params: dict[str, str], token: str = TOKEN) -> Any:
    """As the provider posts it: to the URL it was given, signed over that URL and the parameters."""
    headers = {"X-Twilio-Signature": twilio_signature(token, url, params)}
    return await service.public.post(url.removeprefix("http://service"), data=params, headers=headers)


async def _records(service: Any, kafka_bootstrap: str, topic: Topic, key: str, expect: int) -> list[EventData]:
    """The events keyed ``key`` on ``topic``, once ``expect`` of them arrived."""
    found: list[EventData] = []

    async def arrived() -> bool:
        records = await read_topic(
            kafka_bootstrap,
            physical(topic, service.settings.topic_prefix),
            expect=expect,
            within=5,
            keep=lambda r: r.key == key.encode(),
        )
        found[:] = [Envelope.from_bytes(record.value).payload() for record in records]
        return len(found) >= expect

    await eventually(arrived, within=15, message=f"{expect} events keyed {key} on {topic}")
    return found


async def _messages(service: Any, kafka_bootstrap: str, thread: str, expect: int) -> list[MessageReceived]:
    found = await _records(service, kafka_bootstrap, Topic.INTAKE_MESSAGES, thread, expect)
    return [message for message in found if isinstance(message, MessageReceived)]


async def _calls(service: Any, channel_id: str) -> list[dict[str, Any]]:
    response = await service.client.get(f"/api/v1/voice/channels/{channel_id}/calls")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_call_is_greeted_asked_for_voicemail_and_logged_once_on_the_callers_thread(
    service: Any, kafka_bootstrap: str
) -> None:
    channel = await _voice_channel(service)
    call_sid = f"CA{uuid.uuid4().hex}"
    answered = await _post(service, channel["voice_url"], _call(call_sid))
    assert answered.status_code == 200, answered.text
    assert answered.headers["content-type"].startswith("text/xml")
    twiml = ElementTree.fromstring(answered.text)
    assert twiml.tag == "Response"
    say, record = list(twiml)
    assert (say.tag, say.text, say.get("language")) == (
        "Say",
        "Thanks for calling Acme & Co. Please leave a message.",
        "en-US",
    )
    assert record.tag == "Record"
    assert record.get("action") == channel["status_callback_url"]
    assert record.get("transcribeCallback") == channel["status_callback_url"]
    assert (record.get("maxLength"), record.get("transcribe")) == ("120", "true")

    # The provider retries the webhook: the same answer, nothing stored twice.
    again = await _post(service, channel["voice_url"], _call(call_sid))
    assert (again.status_code, again.text) == (200, answered.text)

    events = channel["status_callback_url"]
    recording = f"https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef/Recordings/RE{call_sid[2:]}"
    for params in (
        _call(
            call_sid,
            CallStatus="in-progress",
            RecordingUrl=recording,
            RecordingSid=f"RE{call_sid[2:]}",
            RecordingDuration="17",
        ),
        _call(call_sid, CallStatus="completed", CallDuration="31"),
        _call(call_sid, CallStatus="completed", CallDuration="31"),  # a retried callback
        _call(
            call_sid,
            CallStatus="completed",
            RecordingUrl=recording,
            TranscriptionSid=f"TR{call_sid[2:]}",
            TranscriptionStatus="completed",
            TranscriptionText="Hi, my router keeps rebooting. Please call me back.",
        ),
    ):
        logged = await _post(service, events, params)
        assert logged.status_code == 200, logged.text
        assert logged.text == '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

    thread = f"voice:{channel['id']}:{CALLER}"
    messages = await _messages(service, kafka_bootstrap, thread, expect=4)
    assert [m.text for m in messages] == [
        f"Incoming call from {CALLER} to {NUMBER}.",
        f"Voicemail recorded (17 s): {recording}",
        "Call ended after 31 s.",
        "Voicemail transcript: Hi, my router keeps rebooting. Please call me back.",
    ]
    first = messages[0]
    assert (first.channel, first.subject, first.sender.phone, first.conversation_id) == (
        "voice",
        f"Call from {CALLER}",
        CALLER,
        thread,
    )
    assert (first.defaults.brand, first.defaults.tags) == ("acme", ["phone"])
    assert {m.metadata["call_sid"] for m in messages} == {call_sid}

    [call] = await _calls(service, channel["id"])
    assert call["call_sid"] == call_sid
    assert (call["from_number"], call["to_number"], call["direction"]) == (CALLER, NUMBER, "inbound")
    assert (call["status"], call["duration_seconds"]) == ("completed", 31)
    assert call["recording_url"] == recording
    assert call["transcription"] == "Hi, my router keeps rebooting. Please call me back."
    assert call["ended_at"] is not None

    # The suite hears of the call once each thing happens to it, in order, keyed by the call.
    started, recorded, callback, ended, transcribed = await _voice_events(
        service, kafka_bootstrap, call["id"], expect=5
    )
    assert isinstance(started, CallStarted)
    assert (started.call_sid, started.channel_id, started.direction) == (call_sid, uuid.UUID(channel["id"]), "inbound")
    assert (started.from_number, started.to_number, started.brand) == (CALLER, NUMBER, "acme")
    assert isinstance(recorded, CallVoicemailRecorded)
    assert (recorded.recording_url, recorded.duration_seconds, recorded.from_number) == (recording, 17, CALLER)
    assert isinstance(callback, CallCallbackRequested), "a voicemail asks to be called back"
    assert callback.via == "voicemail"
    assert isinstance(ended, CallEnded)
    assert (ended.status, ended.duration_seconds, ended.started_at) == ("completed", 31, started.started_at)
    assert ended.ended_at.isoformat() == call["ended_at"].replace("Z", "+00:00")
    assert isinstance(transcribed, CallVoicemailTranscribed)
    assert transcribed.transcription == "Hi, my router keeps rebooting. Please call me back."


async def _voice_events(service: Any, kafka_bootstrap: str, call_id: str, expect: int) -> list[EventData]:
    return await _records(service, kafka_bootstrap, Topic.VOICE_EVENTS, call_id, expect)


async def test_a_status_after_the_end_changes_neither_the_call_nor_the_events(
    service: Any, kafka_bootstrap: str
) -> None:
    channel = await _voice_channel(service, voicemail=False)
    call_sid = f"CA{uuid.uuid4().hex}"
    assert (await _post(service, channel["voice_url"], _call(call_sid))).status_code == 200
    for status in ("canceled", "completed"):  # the caller hung up; a late, out-of-order report
        logged = await _post(service, channel["status_callback_url"], _call(call_sid, CallStatus=status))
        assert logged.status_code == 200, logged.text

    [call] = await _calls(service, channel["id"])
    assert call["status"] == "canceled"
    events = await _voice_events(service, kafka_bootstrap, call["id"], expect=2)
    assert [type(event) for event in events] == [CallStarted, CallEnded]
    assert isinstance(events[1], CallEnded)
    assert (events[1].status, events[1].duration_seconds) == ("canceled", None)


async def _refused(service: Any) -> dict[str, float]:
    """The voice refusals counted so far, by reason (as an operator's dashboard reads /metrics)."""
    prefix = 'omnicase_intake_web_rejections_total{channel="voice",reason="'
    metrics = (await service.public.get("/metrics")).text.splitlines()
    rows = [row[len(prefix) :].split('"} ') for row in metrics if row.startswith(prefix)]
    return {reason: float(count) for reason, count in rows}


async def test_forged_replayed_elsewhere_and_misaddressed_calls_are_refused_and_store_nothing(service: Any) -> None:
    before = await _refused(service)
    channel = await _voice_channel(service)
    other = await _voice_channel(service, auth_token="another-accounts-token")
    call = _call(f"CA{uuid.uuid4().hex}")
    refusals = [
        await _post(service, channel["voice_url"], call, token="not-the-token"),
        # Signed for another channel's URL, replayed against this one.
        await service.public.post(
            channel["voice_url"].removeprefix("http://service"),
            data=call,
            headers={"X-Twilio-Signature": twilio_signature(TOKEN, other["voice_url"], call)},
        ),
        # Signed, then changed on the way.
        await service.public.post(
            channel["voice_url"].removeprefix("http://service"),
            data={**call, "From": "+15559999999"},
            headers={"X-Twilio-Signature": twilio_signature(TOKEN, channel["voice_url"], call)},
        ),
        await service.public.post(channel["voice_url"].removeprefix("http://service"), data=call),
    ]
    for refused in refusals:
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["type"].endswith("/call-signature-refused")

    unknown_number = await _post(service, channel["voice_url"], {**call, "To": "+15550000000"})
    assert unknown_number.status_code == 404
    assert unknown_number.json()["type"].endswith("/voice-number-not-found")
    missing = {name: value for name, value in call.items() if name != "CallSid"}
    assert (await _post(service, channel["voice_url"], missing)).status_code == 400
    unknown_channel = channel["voice_url"].replace(channel["id"], str(uuid.uuid4()))
    assert (await _post(service, unknown_channel, call)).status_code == 404
    assert await _calls(service, channel["id"]) == []
    counted = await _refused(service)
    refusals_by_reason = {
        reason: counted.get(reason, 0) - before.get(reason, 0)
        for reason in ("signature", "unknown_number", "payload", "unknown_channel")
    }
    assert refusals_by_reason == {"signature": 4, "unknown_number": 1, "payload": 1, "unknown_channel": 1}

    disabled = await service.client.put(
        f"/api/v1/voice/channels/{channel['id']}",
        json={
            "name": "Closed line",
            "enabled": False,
            "account_sid": "AC1",
            "auth_token": TOKEN,
            "phone_numbers": [NUMBER],
        },
    )
    assert disabled.status_code == 200, disabled.text
    assert (await _post(service, channel["voice_url"], call)).status_code == 403
    assert await _calls(service, channel["id"]) == []


async def test_voice_channels_are_configured_by_admins_and_never_show_their_token(service: Any) -> None:
    channel = await _voice_channel(service, voicemail=False)
    assert "auth_token" not in channel
    assert channel["voice_url"] == f"http://service/public/voice/channels/{channel['id']}/calls"
    assert channel["status_callback_url"] == channel["voice_url"] + "/events"
    assert (channel["brand"], channel["phone_numbers"], channel["provider"]) == ("acme", [NUMBER], "twilio")
    async with service.app.state.runtime.database.unit_of_work() as session:
        stored = await session.scalar(
            select(voice_channels.c.config).where(voice_channels.c.id == uuid.UUID(channel["id"]))
        )
    assert stored["settings"]["auth_token"].startswith("omnicase:v1:"), "a database dump shows a sealed token"
    assert TOKEN not in json.dumps(stored)

    # Without voicemail the caller hears the greeting and the call ends.
    answered = await _post(service, channel["voice_url"], _call(f"CA{uuid.uuid4().hex}"))
    assert [element.tag for element in ElementTree.fromstring(answered.text)] == ["Say", "Hangup"]

    behind = await _voice_channel(service, webhook_base_url="https://support.example.com/")
    assert behind["voice_url"] == f"https://support.example.com/public/voice/channels/{behind['id']}/calls"
    assert (await _post(service, behind["voice_url"], _call(f"CA{uuid.uuid4().hex}"))).status_code == 200

    before = (await service.client.get("/api/v1/voice/channels", params={"limit": 200})).json()["items"]
    for bad, field in (
        ({"phone_numbers": ["555-1234"]}, "body.phone_numbers.0"),
        ({"phone_numbers": []}, "body.phone_numbers"),
        ({"greeting": ""}, "body.greeting"),
        ({"voicemail": "yes"}, "body.voicemail"),
        ({"signing_secret": "x"}, "body.signing_secret"),
    ):
        body = {"name": "x", "account_sid": "AC1", "auth_token": TOKEN, "phone_numbers": [NUMBER], **bad}
        refused = await service.client.post("/api/v1/voice/channels", json=body)
        assert refused.status_code == 422, refused.text
        assert field in {error["field"] for error in refused.json()["errors"]}
    after = (await service.client.get("/api/v1/voice/channels", params={"limit": 200})).json()["items"]
    assert len(after) == len(before)
    assert channel["id"] in [item["id"] for item in after]

    settings = service.settings
    agent = sign_identity(
        subject="agent-1", role="agent", scopes={"channels:read"}, secret=settings.internal_secret, now=utcnow()
    )
    path = f"/api/v1/voice/channels/{channel['id']}"
    assert (await service.public.get(path, headers={IDENTITY_HEADER: agent})).status_code == 200
    assert (await service.public.delete(path, headers={IDENTITY_HEADER: agent})).status_code == 403
    assert (await service.public.get(path)).status_code == 401
    assert (await service.client.delete(path)).status_code == 204
    assert (await service.client.get(path)).status_code == 404
    assert (await _post(service, channel["voice_url"], _call(f"CA{uuid.uuid4().hex}"))).status_code == 404


async def _hold(service: Any, channel: dict[str, Any], call_sid: str) -> ElementTree.Element:
    """The provider following the hold loop's ``<Redirect>``: a signed POST of the call to the hold URL."""
    held = await _post(service, channel["voice_url"] + "/hold", _call(call_sid, CallStatus="in-progress"))
    assert held.status_code == 200, held.text
    return ElementTree.fromstring(held.text)


async def _backdate(service: Any, channel: dict[str, Any], call_sid: str, seconds: int) -> None:
    """The caller has held ``seconds`` longer (time passing, without waiting for it)."""
    async with service.app.state.runtime.database.unit_of_work() as session:
        await session.execute(
            update(voice_calls)
            .where(voice_calls.c.channel_id == uuid.UUID(channel["id"]), voice_calls.c.call_sid == call_sid)
            .values(started_at=voice_calls.c.started_at - timedelta(seconds=seconds))
        )


async def test_a_queued_call_holds_until_its_queue_time_is_over_then_goes_to_voicemail(service: Any) -> None:
    channel = await _voice_channel(
        service,
        greeting="Thanks for calling Acme. An agent will be with you shortly.",
        queue_seconds=60,
        hold_check_seconds=3,
    )
    call_sid = f"CA{uuid.uuid4().hex}"
    answered = await _post(service, channel["voice_url"], _call(call_sid))
    assert answered.status_code == 200, answered.text
    say, pause, redirect = list(ElementTree.fromstring(answered.text))
    assert (say.tag, say.text) == ("Say", "Thanks for calling Acme. An agent will be with you shortly.")
    assert (pause.tag, pause.get("length")) == ("Pause", "3")
    assert (redirect.tag, redirect.text, redirect.get("method")) == ("Redirect", channel["voice_url"] + "/hold", "POST")

    # Nobody has taken the call (its case is not even confirmed here): the caller holds on.
    assert [verb.tag for verb in await _hold(service, channel, call_sid)] == ["Pause", "Redirect"]
    await _backdate(service, channel, call_sid, 61)
    prompt, record = list(await _hold(service, channel, call_sid))
    assert (prompt.tag, prompt.text) == (
        "Say",
        "Sorry, nobody can take your call right now: please leave a message after the tone.",
    )
    assert (record.tag, record.get("action")) == ("Record", channel["status_callback_url"])

    # Hold music instead of silence.
    music = await _voice_channel(service, queue_seconds=30, hold_music_url="https://cdn.example.com/hold.mp3")
    answered = await _post(service, music["voice_url"], _call(f"CA{uuid.uuid4().hex}"))
    assert [(verb.tag, verb.text) for verb in ElementTree.fromstring(answered.text)][1] == (
        "Play",
        "https://cdn.example.com/hold.mp3",
    )

    unknown = await _post(service, channel["voice_url"] + "/hold", _call(f"CA{uuid.uuid4().hex}"))
    assert unknown.status_code == 404
    assert unknown.json()["type"].endswith("/voice-call-not-found")
    forged = await _post(service, channel["voice_url"] + "/hold", _call(call_sid), token="not-the-token")
    assert forged.status_code == 403


async def test_the_dialled_agent_answering_is_logged_once_and_told_as_call_answered(
    service: Any, kafka_bootstrap: str
) -> None:
    channel = await _voice_channel(service, queue_seconds=60)
    call_sid = f"CA{uuid.uuid4().hex}"
    assert (await _post(service, channel["voice_url"], _call(call_sid))).status_code == 200
    await _backdate(service, channel, call_sid, 100)  # the caller held, then talked 42 s with the agent
    agent = uuid.uuid4()
    dialed = f"{channel['voice_url']}/dialed?agent={agent}"
    leg = _call(call_sid, CallStatus="in-progress", DialCallStatus="completed", DialCallDuration="42")
    for _ in range(2):  # the provider retries
        ended = await _post(service, dialed, leg)
        assert ended.status_code == 200, ended.text
        assert [verb.tag for verb in ElementTree.fromstring(ended.text)] == ["Hangup"]
    assert (await _post(service, channel["status_callback_url"], _call(call_sid, CallStatus="completed"))).is_success
    # The conversation's recording (Dial's recordingStatusCallback names the call, not its numbers).
    recording = f"https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef/Recordings/RE{call_sid[2:]}"
    recorded = {
        "AccountSid": "AC0123456789abcdef",
        "CallSid": call_sid,
        "RecordingSid": f"RE{call_sid[2:]}",
        "RecordingUrl": recording,
        "RecordingStatus": "completed",
        "RecordingDuration": "41",
        "RecordingSource": "DialVerb",
    }
    assert (await _post(service, channel["status_callback_url"], recorded)).is_success

    thread = f"voice:{channel['id']}:{CALLER}"
    messages = await _messages(service, kafka_bootstrap, thread, expect=4)
    assert [m.text for m in messages if m.metadata["call_sid"] == call_sid][1:] == [
        f"Call answered by agent {agent}; talked 42 s.",
        "Call ended.",
        f"Call recorded (41 s): {recording}",
    ]
    [call] = await _calls(service, channel["id"])
    assert (call["answered_by"], call["recording_url"]) == (str(agent), recording)
    # A conversation's recording is no voicemail: no call.voicemail_recorded.
    started, answered, ended_event = await _voice_events(service, kafka_bootstrap, call["id"], expect=3)
    assert isinstance(started, CallStarted)
    assert isinstance(answered, CallAnswered)
    held = answered.answered_at - datetime.fromisoformat(call["started_at"])
    assert answered.wait_seconds == int(held.total_seconds()), "from the call's start to the agent's answer"
    assert (answered.answered_by, answered.direction) == (f"user:{agent}", "inbound")
    assert answered.answered_at == datetime.fromisoformat(call["answered_at"])
    assert isinstance(ended_event, CallEnded)
    assert ended_event.status == "completed"

    # An agent who does not pick up: the caller is asked for a voicemail, and nothing is answered.
    other = f"CA{uuid.uuid4().hex}"
    assert (await _post(service, channel["voice_url"], _call(other))).status_code == 200
    missed = await _post(service, dialed, _call(other, CallStatus="in-progress", DialCallStatus="no-answer"))
    assert [verb.tag for verb in ElementTree.fromstring(missed.text)] == ["Say", "Record"]
    bad = await _post(service, f"{channel['voice_url']}/dialed?agent=nobody", leg)
    assert bad.status_code == 422
    no_status = await _post(service, dialed, _call(call_sid, CallStatus="in-progress"))
    assert no_status.status_code == 400


async def _confirm(service: Any, kafka_bootstrap: str, first: MessageReceived) -> uuid.UUID:
    """case-core opening the call's case from its first message (the end-to-end acknowledgement)."""
    now = utcnow()
    case = CaseSnapshot(
        case_id=uuid.uuid4(), number=1, subject=first.subject or "", status="new", priority="normal",
        channel="voice", created_at=now, updated_at=now, version=1,
    )  # fmt: skip
    envelope = CaseCreated(case=case, source_intake_id=first.intake_id, actor="case-core").envelope(
        source="case-core", subject=str(case.case_id)
    )
    # On this module's event loop (the plugin's producer fixture is on each test's own).
    producer = EventProducer(kafka_bootstrap, client_id="voice-test")
    await producer.start()
    try:
        await producer.publish(
            physical(Topic.CASE_EVENTS, service.settings.topic_prefix), envelope, key=str(case.case_id)
        )
    finally:
        await producer.stop()
    return case.case_id


async def _commands(service: Any, kafka_bootstrap: str, case_id: uuid.UUID, expect: int) -> list[ChangeCase]:
    found = await _records(service, kafka_bootstrap, Topic.CASE_COMMANDS, str(case_id), expect)
    return [command for command in found if isinstance(command, ChangeCase)]


async def test_a_caller_on_hold_presses_1_and_their_case_becomes_a_callback_once_it_is_known(
    service: Any, kafka_bootstrap: str
) -> None:
    channel = await _voice_channel(service, queue_seconds=600, hold_check_seconds=2, callback_keypress=True)
    call_sid = f"CA{uuid.uuid4().hex}"
    say, offer, gather, redirect = list(
        ElementTree.fromstring((await _post(service, channel["voice_url"], _call(call_sid))).text)
    )
    assert (offer.tag, offer.text) == (
        "Say",
        "Press 1 at any time to hang up and be called back: you keep your place in the queue.",
    )
    assert (gather.tag, gather.get("numDigits"), gather.get("action")) == (
        "Gather",
        "1",
        channel["voice_url"] + "/hold",
    )
    assert [(verb.tag, verb.get("length")) for verb in gather] == [("Pause", "2")]
    assert (redirect.tag, redirect.text) == ("Redirect", channel["voice_url"] + "/hold")

    # Another key is no callback: the caller holds on.
    other = await _post(service, channel["voice_url"] + "/hold", _call(call_sid, CallStatus="in-progress", Digits="2"))
    assert [verb.tag for verb in ElementTree.fromstring(other.text)] == ["Gather", "Redirect"]
    # 1, before case-core confirmed the call's case, and the provider's retry of it.
    for _ in range(2):
        pressed = await _post(
            service, channel["voice_url"] + "/hold", _call(call_sid, CallStatus="in-progress", Digits="1")
        )
        assert pressed.status_code == 200, pressed.text
        say, hangup = list(ElementTree.fromstring(pressed.text))
        assert (say.text, hangup.tag) == ("Thank you. We will call you back at this number. Goodbye.", "Hangup")
    [call] = await _calls(service, channel["id"])
    assert call["callback_requested_at"] is not None
    assert call["callback_completed_at"] is None

    thread = f"voice:{channel['id']}:{CALLER}"
    first, pressed_1 = await _messages(service, kafka_bootstrap, thread, expect=2)
    assert pressed_1.text == f"The caller pressed 1 to be called back at {CALLER}."
    case_id = await _confirm(service, kafka_bootstrap, first)
    [tagged] = await _commands(service, kafka_bootstrap, case_id, expect=1)
    assert (tagged.add_tags, tagged.internal_note) == (["callback"], "The caller asked to be called back.")
    # The suite hears of it once, before the case was known.
    _started, requested = await _voice_events(service, kafka_bootstrap, call["id"], expect=2)
    assert isinstance(requested, CallCallbackRequested)
    assert (requested.via, requested.case_id) == ("keypress", None)


async def test_a_voicemail_left_on_a_known_case_makes_it_a_callback_at_once(service: Any, kafka_bootstrap: str) -> None:
    channel = await _voice_channel(service)
    call_sid = f"CA{uuid.uuid4().hex}"
    assert (await _post(service, channel["voice_url"], _call(call_sid))).status_code == 200
    thread = f"voice:{channel['id']}:{CALLER}"
    [first] = await _messages(service, kafka_bootstrap, thread, expect=1)
    case_id = await _confirm(service, kafka_bootstrap, first)

    async def confirmed() -> bool:
        return bool((await _calls(service, channel["id"]))[0]["case_id"] == str(case_id))

    await eventually(confirmed, within=15, message="case-core's confirmation never reached the call")
    recording = f"https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef/Recordings/RE{call_sid[2:]}"
    voicemail = _call(call_sid, CallStatus="completed", RecordingUrl=recording, RecordingDuration="9")
    for _ in range(2):  # the provider retries
        assert (await _post(service, channel["status_callback_url"], voicemail)).is_success
    [tagged] = await _commands(service, kafka_bootstrap, case_id, expect=1)
    assert tagged.add_tags == ["callback"]
    [call] = await _calls(service, channel["id"])
    kinds = [type(event) for event in await _voice_events(service, kafka_bootstrap, call["id"], expect=3)]
    assert kinds == [CallStarted, CallVoicemailRecorded, CallCallbackRequested]
    # Without callback_keypress, the hold loop has no Gather and a 1 is nothing.
    assert "Gather" not in (await _post(service, channel["voice_url"], _call(f"CA{uuid.uuid4().hex}"))).text


async def test_business_hours_are_checked_on_save_and_outside_them_a_caller_hears_the_after_hours_message(
    database_url: str, kafka_bootstrap: str, desk: BrandDesk
) -> None:
    """The schedule is the real sla-engine's, read over HTTP (Monday to Friday, 09:00-17:00 UTC)."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    await ensure_suite_topics(kafka_bootstrap, prefix=prefix, partitions=1)
    sla_settings = SlaEngineSettings(
        database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap, topic_prefix=f"{prefix}sla."
    )
    async with served(create_sla_engine(sla_settings), scopes=frozenset({"sla:write"})) as sla_admin:
        created = await sla_admin.post(
            "/api/v1/business-hours",
            json={
                "name": f"Office {prefix}",
                "time_zone": "UTC",
                "intervals": [
                    {"day": day, "start": "09:00", "end": "17:00"}
                    for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
                ],
            },
        )
        assert created.status_code == 201, created.text
        settings = IntakeWebSettings(
            database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap, topic_prefix=prefix,
            sla_engine_url=str(sla_admin.base_url), case_core_url=desk.url,
        )  # fmt: skip
        app = create_intake_web(settings)
        scopes = frozenset({"channels:read", "channels:write"})
        async with (
            running(app, scopes=scopes) as client,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service") as public,
        ):
            service = SimpleNamespace(client=client, public=public, settings=settings)
            channel = await _voice_channel(
                service, queue_seconds=60, business_hours_id=created.json()["id"], transcribe=False
            )
            with installed_clock(datetime(2026, 3, 7, 10, 0, tzinfo=UTC)):  # a Saturday
                closed = await _post(service, channel["voice_url"], _call(f"CA{uuid.uuid4().hex}"))
                assert closed.status_code == 200, closed.text
                say, record = list(ElementTree.fromstring(closed.text))
                assert say.text == DEFAULT_AFTER_HOURS_MESSAGE
                assert (record.tag, record.get("action")) == ("Record", channel["status_callback_url"])
            with installed_clock(datetime(2026, 3, 9, 10, 0, tzinfo=UTC)):  # Monday morning: the queue
                opened = await _post(service, channel["voice_url"], _call(f"CA{uuid.uuid4().hex}"))
                assert [verb.tag for verb in ElementTree.fromstring(opened.text)] == ["Say", "Pause", "Redirect"]
            # Both calls were taken (each is work: a case), whatever they heard.
            assert len(await _calls(service, channel["id"])) == 2

            # A schedule sla-engine does not have is refused when the channel is saved, naming the field.
            before = (await client.get("/api/v1/voice/channels", params={"limit": 200})).json()["items"]
            body = {
                "name": "Nowhere line",
                "account_sid": "AC0123456789abcdef",
                "auth_token": TOKEN,
                "phone_numbers": [NUMBER],
                "business_hours_id": str(uuid.uuid4()),
            }
            created_refused = await client.post("/api/v1/voice/channels", json=body)
            replaced_refused = await client.put(f"/api/v1/voice/channels/{channel['id']}", json=body)
            for refused in (created_refused, replaced_refused):
                assert refused.status_code == 404, refused.text
                assert refused.json()["type"].endswith("/unknown-reference")
                assert [error["field"] for error in refused.json()["errors"]] == ["body.business_hours_id"]
            # Nothing changed: no new channel, and the channel keeps its name and schedule.
            after = (await client.get("/api/v1/voice/channels", params={"limit": 200})).json()["items"]
            assert len(after) == len(before)
            kept = (await client.get(f"/api/v1/voice/channels/{channel['id']}")).json()
            assert (kept["name"], kept["business_hours_id"]) == ("Support line", created.json()["id"])
            # The schedule it has is taken on a replace as on a create.
            replaced = await client.put(
                f"/api/v1/voice/channels/{channel['id']}",
                json={**body, "name": "Office line", "business_hours_id": created.json()["id"]},
            )
            assert replaced.status_code == 200, replaced.text

    # sla-engine away (nothing listens on its URL): the save cannot be checked, so it is a 503 and stores nothing.
    away = IntakeWebSettings(
        database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap, topic_prefix=prefix,
        sla_engine_url="http://127.0.0.1:9", case_core_url=desk.url,
    )  # fmt: skip
    async with running(create_intake_web(away), scopes=frozenset({"channels:read", "channels:write"})) as client:
        before = (await client.get("/api/v1/voice/channels", params={"limit": 200})).json()["items"]
        unavailable = await client.post("/api/v1/voice/channels", json=body)
        assert unavailable.status_code == 503, unavailable.text
        assert "sla-engine" in unavailable.json()["detail"]
        after = (await client.get("/api/v1/voice/channels", params={"limit": 200})).json()["items"]
        assert len(after) == len(before)
