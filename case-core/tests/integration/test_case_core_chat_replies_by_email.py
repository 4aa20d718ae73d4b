"""A chat's reply the visitor left unread goes again by email (``case.send_reply_by_email``, issue 23)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from omnicase.case_core.testing import Deliver, Published
from omnicase.kit.events import Channel, DeliveryReported, MessageReceived, Party, SendReplyByEmail
from omnicase.kit.ids import uuid7

pytestmark = pytest.mark.asyncio


def _chat_message(thread_key: str, seq: int, email: str) -> MessageReceived:
    """A visitor's message as intake-web publishes it: its own id, no Message-ID of a mail."""
    return MessageReceived(
        intake_id=uuid7(),
        channel=Channel.MESSAGING,
        received_at=datetime.now(UTC),
        thread_key=thread_key,
        conversation_id=thread_key,
        sender=Party(handle=f"visitor-{thread_key[-36:]}", email=email),
        text="Where is my parcel?",
        message_id=f"{thread_key[-36:]}:{seq}",
    )


async def _mails(published: Published, case_id: str) -> list[dict[str, Any]]:
    return [
        data
        for kind, data in await published(case_id)
        if kind == "outbound.message_requested" and data["channel"] == "email"
    ]


async def test_an_unread_chat_reply_is_asked_of_the_email_channel_threaded_and_bad_commands_change_nothing(
    api: httpx.AsyncClient, deliver: Deliver, published: Published
) -> None:
    conversation = str(uuid.uuid4())
    thread_key = f"widget:{uuid.uuid4()}:{conversation}"
    await deliver(_chat_message(thread_key, 1, "gone@shop.example"))
    [case] = (await api.get("/api/v1/cases", params={"channel": "messaging", "limit": 100})).json()["items"][-1:]
    case_id = case["id"]
    assert case["channel"] == "messaging"
    reply = await api.post(f"/api/v1/cases/{case_id}/messages", json={"text": "It left today.", "public": True})
    assert reply.status_code == 201, reply.text
    reply_id = reply.json()["id"]
    # The widget delivered it (its entry's id, no Message-ID); the visitor left before reading.
    await deliver(
        DeliveryReported(outbound_id=reply_id, case_id=case_id, status="sent", provider_message_id=f"{conversation}:2")
    )
    to = Party(email="gone@shop.example", name="Kim")
    await deliver(SendReplyByEmail(case_id=case_id, message_id=reply_id, to=to, reason=f"widget:{conversation}"))

    [mail] = await _mails(published, case_id)
    assert mail["outbound_id"] == reply_id  # intake-email sends one mail per outbound id
    assert mail["to"] == [to.model_dump()]
    assert f"#{case['number']}" in mail["subject"]
    assert mail["text"].startswith("It left today.")
    assert "[ref:oc-" in mail["text"]
    assert "X-Omnicase-Ref" in mail["headers"]
    # The chat's own ids are no mail's Message-IDs: nothing to thread on yet.
    assert mail["in_reply_to"] is None
    assert mail["references"] == []

    # intake-email sent it: its Message-ID replaces the widget's id, so the next mail references it.
    sent_id = f"{reply_id}@mail.omnicase.example"
    await deliver(
        DeliveryReported(outbound_id=reply_id, case_id=case_id, status="sent", provider_message_id=f"<{sent_id}>")
    )
    second = await api.post(f"/api/v1/cases/{case_id}/messages", json={"text": "Any news?", "public": True})
    await deliver(SendReplyByEmail(case_id=case_id, message_id=second.json()["id"], to=to, reason="widget:x"))
    mails = await _mails(published, case_id)
    assert len(mails) == 2
    assert mails[1]["references"] == [sent_id]

    # Bad commands are logged and dropped: no such reply, a note (not public), another case's reply, no case,
    # no address.
    note = await api.post(f"/api/v1/cases/{case_id}/messages", json={"text": "internal", "public": False})
    for bad in (
        SendReplyByEmail(case_id=case_id, message_id=uuid.uuid4(), to=to, reason="x"),
        SendReplyByEmail(case_id=case_id, message_id=note.json()["id"], to=to, reason="x"),
        SendReplyByEmail(case_id=uuid.uuid4(), message_id=reply_id, to=to, reason="x"),
        SendReplyByEmail(case_id=case_id, message_id=reply_id, to=Party(handle="visitor"), reason="x"),
    ):
        await deliver(bad)
    assert len(await _mails(published, case_id)) == 2
