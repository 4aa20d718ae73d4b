"""Mailbox verification: a test message goes out through the relay and must come back in."""

from __future__ import annotations

from typing import Any

import pytest

from omnicase.devtools.testing.plugin import eventually

pytestmark = pytest.mark.asyncio


async def test_mailbox_is_verified_when_its_test_message_arrives_back(
    start_sending_service: Any, smtp_sink: Any
) -> None:
    service = await start_sending_service()
    mailbox = await service.mailbox()
    assert mailbox["verification"]["status"] == "unverified"
    started = await service.client.post(f"/api/v1/mailboxes/{mailbox['id']}/verification")
    assert started.status_code == 202, started.text
    assert started.json()["verification"]["status"] == "pending"
    assert started.json()["verification"]["requested_at"] is not None

    async def sent() -> bool:
        return len(smtp_sink.messages) == 1

    await eventually(sent, message="verification message sent through the relay")
    test_message = smtp_sink.messages[0]
    assert test_message.rcpt_tos == [mailbox["address"]]
    # The customer's mail server forwards the address's mail to our SMTP listener.
    reply = await service.send(test_message.data, test_message.mail_from, [mailbox["address"]])
    intake_id = reply.rsplit(" ", 1)[-1]
    verified = (await service.client.get(f"/api/v1/mailboxes/{mailbox['id']}")).json()["verification"]
    assert verified["status"] == "verified"
    assert verified["route"] == "smtp"
    assert verified["received_from"] == test_message.mail_from
    assert verified["verified_at"] >= verified["requested_at"]
    stored = (await service.client.get(f"/api/v1/mailboxes/-/messages/{intake_id}")).json()
    assert stored["status"] == "dropped"  # a test message opens no case
    assert "verification" in stored["reason"]
    assert stored["hold_reason"] is None, "nor waits in the suspended-messages queue"
    assert stored["published_count"] == 0


async def test_a_forged_or_stale_verification_code_verifies_nothing(service: Any) -> None:
    mailbox = await service.mailbox()
    raw = (
        f"From: someone@example.org\r\nTo: {mailbox['address']}\r\nSubject: hi\r\n"
        "X-Omnicase-Verification: 0123456789abcdef0123456789abcdef\r\n\r\nhello\r\n"
    ).encode()
    await service.send(raw, "someone@example.org", [mailbox["address"]])
    current = (await service.client.get(f"/api/v1/mailboxes/{mailbox['id']}")).json()
    assert current["verification"]["status"] == "unverified"


async def test_verifying_an_unknown_mailbox_is_404(service: Any) -> None:
    response = await service.client.post("/api/v1/mailboxes/0190b6c2-0000-7000-8000-000000000000/verification")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_mailbox_with_an_internationalized_address_sends_its_test_message(start_sending_service: Any) -> None:
    # The kit's address rule takes one beyond ASCII; composing its test message was a 500.
    service = await start_sending_service()
    mailbox = await service.mailbox(address="soporte-ñ@acmé.test", display_name="Ayuda")
    started = await service.client.post(f"/api/v1/mailboxes/{mailbox['id']}/verification")
    assert started.status_code == 202, started.text
    assert started.json()["verification"]["status"] == "pending"
