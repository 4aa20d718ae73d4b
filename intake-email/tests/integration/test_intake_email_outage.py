"""A database outage during DATA: the client hears 451 and nothing half-written remains."""

from __future__ import annotations

import uuid
from typing import Any

import aiosmtplib
import pytest
from sqlalchemy import func, select

from omnicase.intake_email.models import raw_messages
from omnicase.kit.db import Database, create_engine

pytestmark = pytest.mark.asyncio


async def test_database_down_during_data_gives_451_and_stores_nothing_then_the_retry_is_stored(
    start_service: Any, database_proxy: Any, database_url: str, unique_sender: Any
) -> None:
    proxy, proxied_url = database_proxy
    service = await start_service(database_url=proxied_url)
    mailbox = await service.mailbox()
    sender = unique_sender()
    raw = (
        f"From: {sender}\r\nTo: {mailbox['address']}\r\nSubject: during an outage\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@example.org>\r\n\r\nPlease keep this.\r\n"
    ).encode()
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=service.smtp_port, start_tls=False, timeout=30)
    await client.connect()
    await client.ehlo()
    try:
        assert (await client.mail(sender)).code == 250
        assert (await client.rcpt(mailbox["address"])).code == 250
        proxy.cut()  # the database goes away between RCPT and the end of DATA
        with pytest.raises(aiosmtplib.SMTPDataError) as deferred:
            await client.data(raw)
    finally:
        client.close()
    assert deferred.value.code == 451
    assert deferred.value.message.startswith("4.3.0")
    # The inbound-parse webhook says the same in HTTP terms: 503, send it again later.
    webhook = await service.client.post(
        f"/public/email/inbound/{mailbox['address']}", content=raw, headers={"Content-Type": "message/rfc822"}
    )
    assert webhook.status_code == 503
    assert webhook.headers["retry-after"] == "30"
    assert webhook.headers["content-type"] == "application/problem+json"

    direct = Database(create_engine(database_url, pool_size=1))
    try:

        async def stored() -> int:
            async with direct.unit_of_work() as session:
                count = await session.scalar(
                    select(func.count()).where(raw_messages.c.mailbox_id == uuid.UUID(mailbox["id"]))
                )
            return int(count or 0)

        assert await stored() == 0
        proxy.restore()  # the sender retries later, as 451 told it to
        reply = await service.send(raw, sender, [mailbox["address"]])
        assert reply.startswith("2.0.0 OK")
        assert await stored() == 1
    finally:
        await direct.dispose()
