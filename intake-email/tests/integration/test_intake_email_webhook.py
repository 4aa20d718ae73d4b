"""The inbound-parse webhook: signed raw RFC 5322 posts, with the listener's limits in HTTP terms."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from omnicase.intake_email.inbound.api import SIGNATURE_HEADER, signature_for
from omnicase.intake_email.models import mailboxes, raw_messages

pytestmark = pytest.mark.asyncio

SECRET = "a-very-secret-webhook-key"


def raw_mail(to: str, *, message_id: str | None = None) -> bytes:
    mid = message_id or f"{uuid.uuid4().hex}@example.org"
    return (
        f"From: Ada <ada@example.org>\r\nTo: {to}\r\nSubject: Via provider\r\nMessage-ID: <{mid}>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nForwarded by the provider.\r\n"
    ).encode()


async def post(service: Any, mailbox: str, body: bytes, secret: str | None = SECRET) -> Any:
    headers = {"Content-Type": "message/rfc822"}
    if secret is not None:
        headers[SIGNATURE_HEADER] = signature_for(secret, body)
    return await service.client.post(f"/public/email/inbound/{mailbox}", content=body, headers=headers)


async def count(service: Any, mailbox_id: str) -> int:
    async with service.app.state.runtime.database.unit_of_work() as session:
        found = await session.scalar(select(func.count()).where(raw_messages.c.mailbox_id == uuid.UUID(mailbox_id)))
    return int(found or 0)


async def test_signed_post_is_stored_once_and_a_repeat_is_recognised(service: Any) -> None:
    mailbox = await service.mailbox(webhook_secret=SECRET)
    body = raw_mail(mailbox["address"])
    first = await post(service, mailbox["address"], body)
    assert first.status_code == 201, first.text
    accepted = first.json()
    assert accepted["duplicate"] is False
    assert accepted["status"] == "pending"
    stored = (await service.client.get(f"/api/v1/mailboxes/-/messages/{accepted['intake_id']}")).json()
    assert stored["route"] == "webhook"
    again = await post(service, mailbox["id"], body)  # by id this time; the provider retried
    assert again.status_code == 200
    assert again.json()["intake_id"] == accepted["intake_id"]
    assert again.json()["duplicate"] is True
    assert await count(service, mailbox["id"]) == 1


async def stored_secret(service: Any, mailbox_id: str) -> str | None:
    async with service.app.state.runtime.database.unit_of_work() as session:
        secret: str | None = await session.scalar(
            select(mailboxes.c.webhook_secret).where(mailboxes.c.id == uuid.UUID(mailbox_id))
        )
    return secret


async def test_a_mailbox_secret_is_stored_sealed_and_one_stored_plain_before_is_sealed_by_the_pass(
    service: Any,
) -> None:
    mailbox = await service.mailbox(webhook_secret=SECRET)
    sealed = await stored_secret(service, mailbox["id"])
    assert sealed is not None
    assert sealed.startswith("omnicase:v1:"), "a database dump shows a sealed token"
    assert SECRET not in sealed
    assert (await post(service, mailbox["address"], raw_mail(mailbox["address"]))).status_code == 201

    secrets = service.app.state.runtime.state.mailbox_secrets
    async with service.app.state.runtime.database.unit_of_work() as session:
        # As a row written before this version: the plain secret in the column.
        await session.execute(
            mailboxes.update().where(mailboxes.c.id == uuid.UUID(mailbox["id"])).values(webhook_secret=SECRET)
        )
    assert (await post(service, mailbox["address"], raw_mail(mailbox["address"]))).status_code == 201
    async with service.app.state.runtime.database.unit_of_work() as session:
        assert await secrets.reseal(session) >= 1
    resealed = await stored_secret(service, mailbox["id"])
    assert resealed is not None
    assert resealed.startswith("omnicase:v1:")
    assert (await post(service, mailbox["address"], raw_mail(mailbox["address"]))).status_code == 201
    forged = await post(service, mailbox["address"], raw_mail(mailbox["address"]), secret="not-the-secret-0000")
    assert forged.status_code == 401


async def test_service_wide_secret_signs_for_mailboxes_without_their_own(start_service: Any) -> None:
    service = await start_service(webhook_secret="service-wide-secret-0001")
    mailbox = await service.mailbox()
    response = await post(service, mailbox["address"], raw_mail(mailbox["address"]), secret="service-wide-secret-0001")
    assert response.status_code == 201


REFUSALS = [
    ("bad_signature", 401, "bad-signature"),
    ("no_signature", 401, "bad-signature"),
    ("no_secret_configured", 401, "bad-signature"),
    ("unknown_mailbox", 404, "mailbox-not-found"),
    ("too_large", 413, "payload-too-large"),
    ("empty", 422, "message-rejected"),
    ("no_sender", 422, "message-rejected"),
]


async def test_refused_posts_say_why_and_store_nothing(start_service: Any) -> None:
    service = await start_service(max_message_bytes=2048)
    for case, status, slug in REFUSALS:
        mailbox = await service.mailbox(webhook_secret=None if case == "no_secret_configured" else SECRET)
        target = mailbox["address"]
        body = raw_mail(target)
        secret: str | None = SECRET
        if case == "bad_signature":
            secret = "another-secret-entirely"
        elif case == "no_signature":
            secret = None
        elif case == "unknown_mailbox":
            target = "nobody@acme.test"
        elif case == "too_large":
            body = body + b"x" * 4096
        elif case == "empty":
            body = b"   \r\n"
        elif case == "no_sender":
            body = b"To: someone\r\nSubject: anonymous\r\n\r\nwho am I\r\n"
        response = await post(service, target, body, secret=secret)
        assert response.status_code == status, (case, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"].endswith("/" + slug), case
        assert problem["detail"]
        assert await count(service, mailbox["id"]) == 0, case
