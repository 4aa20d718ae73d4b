"""Webhook signatures match the published examples and refuse what they must."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from omnicase.intake_web.channels import signatures
from omnicase.intake_web.channels.signatures import SignatureError

# The Standard Webhooks specification's own example.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
OTHER_SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"


def _headers(signature: str = SIGNATURE, timestamp: int = TIMESTAMP) -> dict[str, str]:
    return {"webhook-id": MSG_ID, "webhook-timestamp": str(timestamp), "webhook-signature": signature}


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def test_standard_webhooks_example_signature_is_reproduced_and_accepted() -> None:
    assert signatures.standard_signature(SECRET, MSG_ID, TIMESTAMP, BODY) == SIGNATURE
    assert signatures.verify_standard([SECRET], _headers(), BODY, _at(TIMESTAMP), 300) == MSG_ID


def test_standard_webhooks_accepts_either_secret_during_rotation_and_any_listed_signature() -> None:
    assert signatures.verify_standard([OTHER_SECRET, SECRET], _headers(), BODY, _at(TIMESTAMP), 300) == MSG_ID
    several = _headers(f"v1,bm90LWl0 {SIGNATURE}")
    assert signatures.verify_standard([SECRET], several, BODY, _at(TIMESTAMP), 300) == MSG_ID


@pytest.mark.parametrize(
    ("headers", "body", "now", "reason"),
    [
        (_headers(), b'{"test": 2432232315}', TIMESTAMP, "signature"),
        (_headers(SIGNATURE.replace("v1,", "v2,")), BODY, TIMESTAMP, "signature"),
        (_headers(), BODY, TIMESTAMP + 301, "timestamp"),
        (_headers(), BODY, TIMESTAMP - 301, "timestamp"),
        ({"webhook-id": MSG_ID, "webhook-signature": SIGNATURE}, BODY, TIMESTAMP, "signature"),
    ],
)
def test_standard_webhooks_refuses_tampering_stale_or_future_timestamps_and_missing_headers(
    headers: dict[str, str], body: bytes, now: int, reason: str
) -> None:
    with pytest.raises(SignatureError) as refused:
        signatures.verify_standard([SECRET], headers, body, _at(now), 300)
    assert refused.value.reason == reason


def test_standard_webhooks_refuses_a_retired_secret() -> None:
    with pytest.raises(SignatureError):
        signatures.verify_standard([OTHER_SECRET], _headers(), BODY, _at(TIMESTAMP), 300)


def test_twilio_example_signature_is_reproduced() -> None:
    # The example of Twilio's webhook security documentation.
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+14158675309"),
        ("Digits", "1234"),
        ("From", "+14158675309"),
        ("To", "+18005551212"),
    ]
    assert signatures.twilio_signature("12345", url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    signatures.verify_twilio("12345", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", url, params)
    with pytest.raises(SignatureError):
        signatures.verify_twilio("12345", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", url.replace("foo=1", "foo=2"), params)


def test_meta_signature_covers_the_raw_body() -> None:
    header = signatures.meta_signature("app-secret", b'{"object":"page"}')
    assert header.startswith("sha256=")
    assert len(header) == len("sha256=") + 64
    signatures.verify_meta("app-secret", header, b'{"object":"page"}')
    for bad_header, body in ((header, b'{"object": "page"}'), (None, b"{}"), ("sha256=00", b"{}")):
        with pytest.raises(SignatureError):
            signatures.verify_meta("app-secret", bad_header, body)
