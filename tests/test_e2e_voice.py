"""Voice through the whole suite (issue 25, first slice): a provider's signed call webhooks become a case.

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
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from omnicase.devtools.testing.frontend import Gateway, wait_for
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
    assert len(texts) == 4, "each webhook once, the retried call too"

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
