"""Webhook rules with no servers: Standard Webhooks signatures, backoff, Retry-After, the SSRF guard, event mapping."""

from __future__ import annotations

import ipaddress
import random
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from omnicase.case_core.webhooks.service import webhook_types_of
from omnicase.case_core.webhooks.signing import new_secret, sign, signed_headers, verify
from omnicase.kit import ssrf
from omnicase.kit.backoff import backoff_seconds, retry_after_seconds
from omnicase.kit.events import Envelope


def test_signature_matches_the_standard_webhooks_reference_vector() -> None:
    # The example of the Standard Webhooks specification, so any compliant library verifies ours.
    signature = sign(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}'
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_a_tampered_body_or_another_secret_fails_verification() -> None:
    secret = new_secret()
    headers = signed_headers(secret, "msg_1", 1700000000, b'{"a":1}')
    assert verify(secret, headers, b'{"a":1}')
    assert not verify(secret, headers, b'{"a":2}')
    assert not verify(new_secret(), headers, b'{"a":1}')
    assert secret.startswith("whsec_")
    assert secret != new_secret()


def test_backoff_doubles_with_jitter_and_stops_at_the_cap() -> None:
    rng = random.Random(7)
    for attempt, ceiling in [(1, 10), (2, 20), (3, 40), (4, 80), (8, 300), (30, 300)]:
        delays = [backoff_seconds(attempt, base=10, cap=300, rng=rng) for _ in range(50)]
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert len(set(delays)) > 1, "jitter spreads retries"


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("120", now) == 120
    assert retry_after_seconds("Sun, 01 Mar 2026 12:01:30 GMT", now) == 90
    assert retry_after_seconds("Sun, 01 Mar 2026 11:00:00 GMT", now) == 0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.1",
        "169.254.169.254",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fd00::5",
        "::ffff:127.0.0.1",
        "100.64.0.1",
        "224.0.0.1",
    ],
)
def test_internal_addresses_are_refused(address: str) -> None:
    with pytest.raises(ssrf.BlockedAddress):
        ssrf.check_address(ipaddress.ip_address(address), [])


def test_public_and_allow_listed_addresses_pass() -> None:
    ssrf.check_address(ipaddress.ip_address("93.184.216.34"), [])
    ssrf.check_address(ipaddress.ip_address("2606:4700::1111"), [])
    ssrf.check_address(ipaddress.ip_address("10.20.3.4"), [ipaddress.ip_network("10.20.0.0/16")])
    with pytest.raises(ssrf.BlockedAddress):
        ssrf.check_address(ipaddress.ip_address("10.21.3.4"), [ipaddress.ip_network("10.20.0.0/16")])


@pytest.mark.asyncio
async def test_host_names_are_judged_by_the_addresses_they_resolve_to() -> None:
    with pytest.raises(ssrf.BlockedAddress, match="internal"):
        await ssrf.guard("http://localhost:8080/hook", [])
    await ssrf.guard(
        "http://localhost:8080/hook", [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")]
    )
    with pytest.raises(ssrf.Unresolvable):
        await ssrf.guard("https://no-such-host.invalid/hook", [])


def _envelope(event_type: str, data: dict[str, Any]) -> Envelope:
    return Envelope(id=uuid.uuid4(), type=event_type, source="test", subject="x", time=datetime.now(UTC), data=data)


def test_case_and_sla_events_map_to_webhook_event_types() -> None:
    solved = {"changes": {"status": {"old": "open", "new": "solved"}}}
    assert webhook_types_of(_envelope("case.created", {})) == ["case.created"]
    assert webhook_types_of(_envelope("case.updated", solved)) == ["case.updated", "case.solved"]
    assert webhook_types_of(_envelope("case.updated", {"changes": {"priority": {"old": "low", "new": "high"}}})) == [
        "case.updated"
    ]
    assert webhook_types_of(_envelope("case.message_added", {})) == ["case.message_added"]
    assert webhook_types_of(_envelope("sla.threshold_reached", {"level": "breach"})) == ["sla.breached"]
    assert webhook_types_of(_envelope("sla.threshold_reached", {"level": "warning"})) == []
    assert webhook_types_of(_envelope("case.assign", {})) == []


def test_a_delivery_is_pinned_to_the_vetted_address_keeping_the_name_for_host_and_tls() -> None:
    url, headers, extensions = ssrf.pinned("https://hooks.example.com/in?x=1", ipaddress.ip_address("93.184.216.34"))
    assert url == "https://93.184.216.34/in?x=1"
    assert headers == {"host": "hooks.example.com"}
    assert extensions == {"sni_hostname": "hooks.example.com"}, "TLS asks for and checks the name's certificate"

    url, headers, extensions = ssrf.pinned("http://hooks.example.com:8080/in", ipaddress.ip_address("2606:2800::1"))
    assert url == "http://[2606:2800::1]:8080/in"
    assert headers == {"host": "hooks.example.com:8080"}
    assert extensions == {}
