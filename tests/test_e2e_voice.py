"""Voice through the whole suite (issue 25): a provider's signed call webhooks become a case, and a call
waiting in a queue is offered to an agent who takes calls and is dialled once they accept.

The telephony provider is played by the test: it posts form-encoded call webhooks to the
URLs the voice channel's answer names (the gateway's), signed as Twilio documents
(`X-Twilio-Signature`, HMAC-SHA1 of the URL and the parameters in name order, keyed with the
auth token), with a signer written here, not the service's. The tests watch what an agent's
console sees: the case, its call log, the caller as requester.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs
from xml.etree import ElementTree

import httpx
import pytest

from omnicase.devtools.testing.frontend import Gateway, assigned_to, online_agent, wait_for
from omnicase.devtools.testing.servers import answer_json
from omnicase.devtools.testing.stack import SuiteStack

pytestmark = pytest.mark.slow

TOKEN = "e2e-voice-auth-token"
NUMBER = "+15005550006"


@pytest.fixture(scope="module")
def admin(stack: SuiteStack, admin_login: tuple[str, str]) -> Iterator[Gateway]:
    with Gateway(stack.url()) as gateway:
        yield gateway.login(*admin_login)


@pytest.fixture(scope="module")
def channel(admin: Gateway) -> dict[str, Any]:
    admin.brand("acme")
    created: dict[str, Any] = admin.post(
        "/api/v1/voice/channels",
        {
            "name": "Support line",
            "account_sid": "AC0123456789abcdef",
            "auth_token": TOKEN,
            "phone_numbers": [NUMBER],
            "brand": "acme",
            "greeting": "Thanks for calling Acme. Please leave a message after the tone.",
        },
    )
    return created


def _signed_post(url: str, params: dict[str, str], token: str = TOKEN) -> httpx.Response:
    """As the provider posts a call webhook: to the URL it was given, signed over it and the parameters."""
    signed = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    signature = base64.b64encode(hmac.new(token.encode(), signed.encode(), hashlib.sha1).digest()).decode()
    return httpx.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=30)


def _call(call_sid: str, caller: str, **more: str) -> dict[str, str]:
    return {"CallSid": call_sid, "From": caller, "To": NUMBER, "CallStatus": "ringing", "Direction": "inbound", **more}


def _case_of(admin: Gateway, channel: dict[str, Any], call_sid: str) -> str:
    def case_id() -> str | None:
        calls = admin.get(f"/api/v1/voice/channels/{channel['id']}/calls", params={"limit": 100})["items"]
        return next((call["case_id"] for call in calls if call["call_sid"] == call_sid and call["case_id"]), None)

    return wait_for(case_id, within=60, message=f"call {call_sid} never became a case")


def test_a_call_to_voicemail_becomes_a_case_with_its_call_log_and_the_next_call_joins_it(
    admin: Gateway, channel: dict[str, Any]
) -> None:
    caller = f"+1415555{uuid.uuid4().int % 10**4:04d}"
    first = f"CA{uuid.uuid4().hex}"
    answered = _signed_post(channel["voice_url"], _call(first, caller))
    assert answered.status_code == 200, answered.text
    assert (
        '<Say language="en-US">Thanks for calling Acme. Please leave a message after the tone.</Say>' in answered.text
    )
    assert f'<Record action="{channel["status_callback_url"]}"' in answered.text
    assert _signed_post(channel["voice_url"], _call(first, caller)).status_code == 200  # the provider's retry

    recording = f"https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef/Recordings/RE{first[2:]}"
    events = channel["status_callback_url"]
    for params in (
        _call(first, caller, CallStatus="completed", RecordingUrl=recording, RecordingDuration="12"),
        _call(first, caller, CallStatus="completed", CallDuration="20"),
        _call(first, caller, CallStatus="completed", TranscriptionSid="TR1", TranscriptionText="Please call me back."),
    ):
        assert _signed_post(events, params).status_code == 200

    case_id = _case_of(admin, channel, first)
    case = admin.get(f"/api/v1/cases/{case_id}")
    assert (case["channel"], case["subject"], case["brand"]) == ("voice", f"Call from {caller}", "acme")
    requester = admin.get(f"/api/v1/contacts/{case['requester_id']}")
    assert caller in requester["phones"], "the caller is the requester, known by their number"

    log = [
        "Call ended after 20 s.",
        f"Voicemail recorded (12 s): {recording}",
        "Voicemail transcript: Please call me back.",
    ]

    def call_log() -> list[str] | None:
        texts = [message["text"] for message in admin.get(f"/api/v1/cases/{case_id}/messages")["items"]]
        return texts if all(line in texts for line in log) else None

    texts = wait_for(call_log, within=60, message="the call's recording, end and transcript never reached its case")
    assert texts[0] == f"Incoming call from {caller} to {NUMBER}."
    # The voicemail makes the case a callback (its note); each webhook is logged once, the retried call too.
    assert len([text for text in texts if text != "The caller asked to be called back."]) == 4

    # The caller calls again while the case is open: the call joins it.
    second = f"CA{uuid.uuid4().hex}"
    assert _signed_post(channel["voice_url"], _call(second, caller)).status_code == 200
    assert _case_of(admin, channel, second) == case_id


def test_a_forged_call_is_refused_through_the_gateway_and_opens_nothing(
    admin: Gateway, channel: dict[str, Any]
) -> None:
    call_sid = f"CA{uuid.uuid4().hex}"
    forged = _signed_post(channel["voice_url"], _call(call_sid, "+14155550111"), token="guessed-token")
    assert forged.status_code == 403
    assert forged.headers["content-type"].startswith("application/problem+json")
    calls = admin.get(f"/api/v1/voice/channels/{channel['id']}/calls", params={"limit": 100})["items"]
    assert call_sid not in [call["call_sid"] for call in calls]


@pytest.fixture(scope="module")
def call_center(admin: Gateway) -> Iterator[dict[str, Any]]:
    """A brand of its own whose calls a rule queues for Vera, who takes calls (a call costs voice's 5
    capacity units), and one whose calls a rule queues where nobody is."""
    run = uuid.uuid4().hex[:8]
    staffed, empty = f"phones-{run}", f"after-hours-{run}"
    phones = admin.post("/api/v1/groups", {"name": f"Phones {run}", "offer_timeout_seconds": 120})
    nobody = admin.post("/api/v1/groups", {"name": f"Nobody {run}", "offer_timeout_seconds": 120})
    for brand, group in ((staffed, phones), (empty, nobody)):
        admin.brand(brand)  # the voice channels name it: case-core must have it
        admin.post(
            "/api/v1/routing/rules",
            {
                "name": f"Calls of {brand}",
                "position": 1,
                "target_group_id": group["id"],
                "conditions": {"channels": ["voice"], "brands": [brand]},
            },
        )
    with ExitStack() as clients:
        vera_id, vera = online_agent(clients, admin, f"Vera{run}", [], [phones["id"]])
        # She takes calls (agents start offline for calls, whatever their queues).
        vera.call("PUT", f"/api/v1/agents/{vera_id}/voice", json={"status": "available"})
        channels = {
            brand: admin.post(
                "/api/v1/voice/channels",
                {
                    "name": f"Line of {brand}",
                    "account_sid": "AC0123456789abcdef",
                    "auth_token": TOKEN,
                    "phone_numbers": [NUMBER],
                    "brand": brand,
                    "greeting": "Thanks for calling Acme. Please hold for an agent.",
                    "queue_seconds": seconds,
                    "hold_check_seconds": 1,
                    "record_calls": True,
                },
            )
            for brand, seconds in ((staffed, 600), (empty, 2))
        }
        yield {"vera_id": vera_id, "vera": vera, "staffed": channels[staffed], "empty": channels[empty]}


def _twiml(answer: httpx.Response) -> list[ElementTree.Element]:
    assert answer.status_code == 200, answer.text
    return list(ElementTree.fromstring(answer.text))


def _hold_until(channel: dict[str, Any], call_sid: str, caller: str, verb: str) -> list[ElementTree.Element]:
    """The provider following the hold loop's redirects until its answer has ``verb``."""

    def answer() -> list[ElementTree.Element] | None:
        held = _twiml(_signed_post(channel["voice_url"] + "/hold", _call(call_sid, caller, CallStatus="in-progress")))
        return held if any(element.tag == verb for element in held) else None

    return wait_for(answer, within=90, message=f"the call on hold was never answered with <{verb}>")


def test_a_queued_call_is_offered_to_the_agent_who_takes_calls_and_dials_her_once_she_accepts(
    admin: Gateway, call_center: dict[str, Any]
) -> None:
    vera, vera_id, channel = call_center["vera"], call_center["vera_id"], call_center["staffed"]
    caller = f"+1415556{uuid.uuid4().int % 10**4:04d}"
    call_sid = f"CA{uuid.uuid4().hex}"
    with vera.listen(types="offer.created") as console:
        say, _pause, redirect = _twiml(_signed_post(channel["voice_url"], _call(call_sid, caller)))
        assert say.text == "Thanks for calling Acme. Please hold for an agent."
        assert (redirect.tag, redirect.text) == ("Redirect", channel["voice_url"] + "/hold")
        case_id = _case_of(admin, channel, call_sid)

        def rung() -> dict[str, Any] | None:
            return next((item for item in console.of_type("offer.created") if item["case_id"] == case_id), None)

        offer = wait_for(rung, within=60, message="Vera's console never rang with the call")
    assert offer["agent_id"] == vera_id
    # Offered is not taken: the caller still holds.
    assert [
        element.tag for element in _twiml(_signed_post(channel["voice_url"] + "/hold", _call(call_sid, caller)))
    ] == [
        "Pause",
        "Redirect",
    ]
    vera.call("POST", f"/api/v1/agents/{vera_id}/offers/{offer['offer_id']}/accept")
    wait_for(lambda: assigned_to(admin, case_id, vera_id), within=30, message="the accepted call was never assigned")

    [dial] = _hold_until(channel, call_sid, caller, "Dial")
    [client] = list(dial)
    assert (client.tag, client.text) == ("Client", f"agent_{uuid.UUID(vera_id).hex}")
    assert dial.get("action") == f"{channel['voice_url']}/dialed?agent={vera_id}"
    assert (dial.get("record"), dial.get("recordingStatusCallback")) == (
        "record-from-answer",
        channel["status_callback_url"],
    )
    leg = _call(call_sid, caller, CallStatus="in-progress", DialCallStatus="completed", DialCallDuration="42")
    with vera.listen(types="agent.voice_status_changed") as console:
        assert [element.tag for element in _twiml(_signed_post(dial.get("action", ""), leg))] == ["Hangup"]

        # Her console shows her busy on the call she answered, then she is available again once it ended.
        def on_the_phone() -> dict[str, Any] | None:
            return next((e for e in console.of_type("agent.voice_status_changed") if e["status"] == "busy"), None)

        busy = wait_for(on_the_phone, within=60, message="Vera's console never showed her busy on the call")
        assert (busy["agent_id"], busy["previous"]) == (vera_id, "available")
        assert admin.get(f"/api/v1/agents/{vera_id}")["voice"]["call_id"] == busy["call_id"]
        ended = _call(call_sid, caller, CallStatus="completed", CallDuration="75")
        assert _signed_post(channel["status_callback_url"], ended).status_code == 200
        wait_for(
            lambda: admin.get(f"/api/v1/agents/{vera_id}")["voice"]["status"] == "available",
            within=60,
            message="Vera was never available for calls again after the call ended",
        )
    recording = f"https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef/Recordings/RE{call_sid[2:]}"
    recorded = {
        "CallSid": call_sid,
        "RecordingSid": f"RE{call_sid[2:]}",
        "RecordingUrl": recording,
        "RecordingStatus": "completed",
        "RecordingDuration": "42",
        "RecordingSource": "DialVerb",
    }
    assert _signed_post(channel["status_callback_url"], recorded).status_code == 200

    log = [
        f"Call answered by agent {vera_id}; talked 42 s.",
        "Call ended after 75 s.",
        f"Call recorded (42 s): {recording}",
    ]

    def call_log() -> list[str] | None:
        texts = [message["text"] for message in admin.get(f"/api/v1/cases/{case_id}/messages")["items"]]
        return texts if all(line in texts for line in log) else None

    texts = wait_for(call_log, within=60, message="the answer and the end never reached the call's case")
    assert texts[0] == f"Incoming call from {caller} to {NUMBER}."
    calls = admin.get(f"/api/v1/voice/channels/{channel['id']}/calls", params={"limit": 100})["items"]
    [call] = [call for call in calls if call["call_sid"] == call_sid]
    assert (call["answered_by"], call["status"], call["case_id"]) == (vera_id, "completed", case_id)
    assert call["recording_url"] == recording


def test_a_call_nobody_takes_in_its_queue_time_goes_to_voicemail_on_its_case(
    admin: Gateway, call_center: dict[str, Any]
) -> None:
    channel = call_center["empty"]
    caller = f"+1415557{uuid.uuid4().int % 10**4:04d}"
    call_sid = f"CA{uuid.uuid4().hex}"
    assert _twiml(_signed_post(channel["voice_url"], _call(call_sid, caller)))[-1].tag == "Redirect"
    prompt, record = _hold_until(channel, call_sid, caller, "Record")
    assert prompt.text == "Sorry, nobody can take your call right now: please leave a message after the tone."
    recording = f"https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef/Recordings/RE{call_sid[2:]}"
    voicemail = _call(call_sid, caller, CallStatus="completed", RecordingUrl=recording, RecordingDuration="9")
    assert _signed_post(record.get("action", ""), voicemail).status_code == 200
    case_id = _case_of(admin, channel, call_sid)

    def logged() -> bool:
        texts = [message["text"] for message in admin.get(f"/api/v1/cases/{case_id}/messages")["items"]]
        return f"Voicemail recorded (9 s): {recording}" in texts

    wait_for(logged, within=60, message="the voicemail never reached the call's case")
    case = admin.get(f"/api/v1/cases/{case_id}")
    assert case["assignee_id"] is None, "nobody took the call: its case waits in the queue for a callback"


class TwilioCalls:
    """A local server speaking the part of Twilio's REST API click-to-call uses: ``POST
    /2010-04-01/Accounts/{AccountSid}/Calls.json`` (form-encoded, HTTP basic auth with the account sid
    and auth token), answered 201 with the call's JSON, 401 for other credentials and 400 (Twilio's
    error 21217) for a number it cannot call, as Twilio documents them."""

    INVALID = "+15005550001"  # Twilio's test number for an invalid destination

    def __init__(self) -> None:
        self.created: list[dict[str, list[str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = parse_qs(self.rfile.read(length).decode())
                expected = "Basic " + base64.b64encode(f"AC0123456789abcdef:{TOKEN}".encode()).decode()
                if self.path != "/2010-04-01/Accounts/AC0123456789abcdef/Calls.json":
                    self._answer(404, {"code": 20404, "message": "The requested resource was not found", "status": 404})
                elif self.headers.get("Authorization") != expected:
                    self._answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
                elif form.get("To") == [TwilioCalls.INVALID]:
                    message = f"The phone number you are attempting to call, {TwilioCalls.INVALID}, is not valid."
                    self._answer(400, {"code": 21217, "message": message, "status": 400})
                else:
                    outer.created.append(form)
                    sid = f"CA{uuid.uuid4().hex}"
                    self._answer(201, {"sid": sid, "status": "queued", "to": form["To"][0], "from": form["From"][0]})

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                answer_json(self, status, body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def twilio() -> Iterator[TwilioCalls]:
    calls = TwilioCalls()
    yield calls
    calls.server.shutdown()
    calls.server.server_close()


def test_click_to_call_places_the_call_through_the_providers_api_and_logs_it_on_the_case(
    admin: Gateway, call_center: dict[str, Any], twilio: TwilioCalls
) -> None:
    vera, vera_id = call_center["vera"], call_center["vera_id"]
    channel = admin.post(
        "/api/v1/voice/channels",
        {
            "name": "Outbound line",
            "account_sid": "AC0123456789abcdef",
            "auth_token": TOKEN,
            "phone_numbers": [NUMBER],
            "api_base_url": twilio.url,
        },
    )
    customer = f"+1415558{uuid.uuid4().int % 10**4:04d}"
    case = admin.post(
        "/api/v1/cases",
        {"subject": "Please call me", "description": "About my order.", "requester": {"email": "cal@customer.example"}},
    )
    placed = vera.post(f"/api/v1/cases/{case['id']}/calls", {"channel_id": channel["id"], "to": customer})
    assert (placed["direction"], placed["to_number"], placed["from_number"]) == ("outbound", customer, NUMBER)
    assert (placed["case_id"], placed["placed_by"], placed["status"]) == (case["id"], vera_id, "queued")
    [request] = twilio.created
    assert (request["To"], request["From"]) == ([customer], [NUMBER])
    assert request["StatusCallback"] == [channel["status_callback_url"]]
    assert request["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]

    # The customer answers: the provider asks the call's Url, signed, and is told to connect Vera.
    call_sid = placed["call_sid"]
    leg = {
        "CallSid": call_sid,
        "From": NUMBER,
        "To": customer,
        "CallStatus": "in-progress",
        "Direction": "outbound-api",
    }
    [dial] = _twiml(_signed_post(request["Url"][0], leg))
    assert [(client.tag, client.text) for client in dial] == [("Client", f"agent_{uuid.UUID(vera_id).hex}")]
    for status, more in (
        ("ringing", {}),
        ("in-progress", {}),
        ("in-progress", {}),
        ("completed", {"CallDuration": "30"}),
    ):
        assert _signed_post(channel["status_callback_url"], {**leg, "CallStatus": status, **more}).status_code == 200

    log = [
        f"Outbound call to {customer}.",
        f"Outbound call to {customer} answered.",
        f"Outbound call to {customer} ended after 30 s (completed).",
    ]

    def logged() -> list[str] | None:
        texts = [message["text"] for message in admin.get(f"/api/v1/cases/{case['id']}/messages")["items"]]
        found = [text for text in texts if text.startswith("Outbound call")]
        return found if len(found) >= len(log) else None

    assert wait_for(logged, within=60, message="the outbound call never reached its case") == log
    [call] = [
        c for c in admin.get(f"/api/v1/voice/channels/{channel['id']}/calls")["items"] if c["call_sid"] == call_sid
    ]
    assert (call["status"], call["duration_seconds"], call["case_id"]) == ("completed", 30, case["id"])

    # Refused: a number the provider cannot call, a case that does not exist, an unknown channel.
    refused = vera.call(
        "POST",
        f"/api/v1/cases/{case['id']}/calls",
        json={"channel_id": channel["id"], "to": TwilioCalls.INVALID},
        expect=409,
    )
    assert refused["type"].endswith("/call-not-placed")
    assert "is not valid" in refused["detail"]
    missing = vera.call(
        "POST", f"/api/v1/cases/{uuid.uuid4()}/calls", json={"channel_id": channel["id"], "to": customer}, expect=404
    )
    assert missing["type"].endswith("/case-not-found")
    unknown = vera.call(
        "POST", f"/api/v1/cases/{case['id']}/calls", json={"channel_id": str(uuid.uuid4()), "to": customer}, expect=404
    )
    assert unknown["type"].endswith("/unknown-reference")
    assert [error["field"] for error in unknown["errors"]] == ["body.channel_id"]
    vera.call("POST", f"/api/v1/cases/{case['id']}/calls", json={"channel_id": channel["id"], "to": "555"}, expect=422)
    # Without a number the call goes to the requester's phone; this requester has only an email address.
    no_phone = vera.call("POST", f"/api/v1/cases/{case['id']}/calls", json={"channel_id": channel["id"]}, expect=409)
    assert [error["field"] for error in no_phone["errors"]] == ["body.to"]
    assert len(twilio.created) == 1, "nothing refused reached the provider's call list"


def test_a_voicemail_becomes_a_callback_routing_offers_and_a_call_from_the_case_completes(
    admin: Gateway, call_center: dict[str, Any], twilio: TwilioCalls
) -> None:
    vera, vera_id = call_center["vera"], call_center["vera_id"]
    run = uuid.uuid4().hex[:8]
    brand = f"callbacks-{run}"
    admin.brand(brand)  # the voice channel names it: case-core must have it
    phones = admin.post("/api/v1/groups", {"name": f"Callbacks {run}", "offer_timeout_seconds": 120})
    vera_agent = admin.get(f"/api/v1/agents/{vera_id}")
    admin.call("PATCH", f"/api/v1/agents/{vera_id}", json={"group_ids": [*vera_agent["group_ids"], phones["id"]]})
    admin.post(
        "/api/v1/routing/rules",
        {
            "name": f"Callbacks of {brand}",
            "position": 1,
            "target_group_id": phones["id"],
            "conditions": {"tags_any": ["callback"], "brands": [brand]},
        },
    )
    channel = admin.post(
        "/api/v1/voice/channels",
        {
            "name": f"Callback line {run}",
            "account_sid": "AC0123456789abcdef",
            "auth_token": TOKEN,
            "phone_numbers": [NUMBER],
            "brand": brand,
            "api_base_url": twilio.url,
        },
    )
    caller = f"+1415559{uuid.uuid4().int % 10**4:04d}"
    call_sid = f"CA{uuid.uuid4().hex}"
    with vera.listen(types="offer.created") as console:
        assert _twiml(_signed_post(channel["voice_url"], _call(call_sid, caller)))[-1].tag == "Record"
        recording = f"https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef/Recordings/RE{call_sid[2:]}"
        voicemail = _call(call_sid, caller, CallStatus="completed", RecordingUrl=recording, RecordingDuration="7")
        assert _signed_post(channel["status_callback_url"], voicemail).status_code == 200
        case_id = _case_of(admin, channel, call_sid)
        wait_for(
            lambda: "callback" in admin.get(f"/api/v1/cases/{case_id}")["tags"],
            within=60,
            message="the voicemail's case never became a callback",
        )

        def rung() -> dict[str, Any] | None:
            return next((item for item in console.of_type("offer.created") if item["case_id"] == case_id), None)

        offer = wait_for(rung, within=60, message="routing never offered the callback")
    vera.call("POST", f"/api/v1/agents/{vera_id}/offers/{offer['offer_id']}/accept")

    # Vera calls the customer back from the case, naming no number: the requester's (the caller's) is called.
    # Once they answer, the callback is done.
    placed = vera.post(f"/api/v1/cases/{case_id}/calls", {"channel_id": channel["id"]})
    assert placed["to_number"] == caller
    assert twilio.created[-1]["To"] == [caller]
    leg = {"CallSid": placed["call_sid"], "From": NUMBER, "To": caller, "Direction": "outbound-api"}
    assert _signed_post(channel["status_callback_url"], {**leg, "CallStatus": "in-progress"}).status_code == 200
    wait_for(
        lambda: "callback" not in admin.get(f"/api/v1/cases/{case_id}")["tags"],
        within=60,
        message="the call back never completed the callback",
    )
    texts = [message["text"] for message in admin.get(f"/api/v1/cases/{case_id}/messages")["items"]]
    assert "The caller asked to be called back." in texts
    assert f"Called back: {caller} answered." in texts
    calls = admin.get(f"/api/v1/voice/channels/{channel['id']}/calls", params={"limit": 100})["items"]
    [inbound] = [call for call in calls if call["call_sid"] == call_sid]
    assert inbound["callback_requested_at"] is not None
    assert inbound["callback_completed_by"] == placed["id"]
