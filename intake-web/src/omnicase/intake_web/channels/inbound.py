"""Provider payloads → inbound messages, threaded by conversation and stored once each."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_web.channels.definition import StoredChannel
from omnicase.intake_web.channels.media import Media, MediaRef
from omnicase.intake_web.channels.schemas import GenericMessageIn, MessengerConfig, WhatsAppConfig
from omnicase.intake_web.messages.intake import accept_message
from omnicase.kit.blobs import BlobStore
from omnicase.kit.clock import utcnow
from omnicase.kit.events import AttachmentRef, CaseDefaults, HoldReason, MessageReceived, Party
from omnicase.kit.ids import uuid7
from omnicase.kit.outbox import Outbox


@dataclass(frozen=True)
class InboundItem:
    dedupe_key: str | None
    conversation: str
    sender: Party
    text: str
    message_id: str | None = None
    subject: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    media: tuple[MediaRef, ...] = ()
    # Tags this message's case gets beside the channel's (the widget's pre-chat topic).
    tags: tuple[str, ...] = ()
    # Files in the blob store already (the widget's uploads), carried as they are.
    attachments: tuple[AttachmentRef, ...] = ()
    # Held as spam by a rule of the channel's (the widget's forms rules): why.
    spam: str | None = None


class PayloadError(ValueError):
    """A signed payload that is not what the provider's format says."""


def _when(value: Any, per_second: int = 1) -> str | None:
    try:
        return datetime.fromtimestamp(float(value) / per_second, tz=UTC).isoformat()
    except (TypeError, ValueError, OverflowError):
        return None


def parse_sms(params: list[tuple[str, str]]) -> list[InboundItem]:
    values = dict(params)
    sender = values.get("From", "").strip()
    sid = values.get("MessageSid") or values.get("SmsSid")
    if not sender or not sid:
        raise PayloadError("From and MessageSid are required")
    count = values.get("NumMedia", "0")
    media = tuple(
        MediaRef(url=values[f"MediaUrl{n}"], content_type=values.get(f"MediaContentType{n}"))
        for n in range(min(int(count) if count.isdigit() else 0, 10))
        if f"MediaUrl{n}" in values
    )
    metadata: dict[str, Any] = {"to": values.get("To")}
    return [
        InboundItem(
            dedupe_key=f"msg:{sid}",
            conversation=sender,
            sender=Party(phone=sender),
            text=values.get("Body", ""),
            message_id=sid,
            metadata=metadata,
            media=media,
        )
    ]


def parse_whatsapp(payload: dict[str, Any], config: WhatsAppConfig) -> list[InboundItem]:
    items: list[InboundItem] = []
    for entry in _list(payload.get("entry")):
        for change in _list(entry.get("changes")):
            value = _dict(change.get("value"))
            if (
                str(_dict(value.get("metadata")).get("phone_number_id", config.phone_number_id))
                != config.phone_number_id
            ):
                continue
            names = {c.get("wa_id"): _dict(c.get("profile")).get("name") for c in _list(value.get("contacts"))}
            # Status updates (sent, delivered, read) carry no "messages": nothing to store.
            for message in _list(value.get("messages")):
                wa_id, message_id = message.get("from"), message.get("id")
                if not wa_id or not message_id:
                    raise PayloadError("a WhatsApp message needs from and id")
                kind = message.get("type", "text")
                found = message.get(kind)
                body: dict[str, Any] = found if isinstance(found, dict) else {}
                media: tuple[MediaRef, ...] = ()
                if kind == "text":
                    text = body.get("body", "")
                else:
                    text = body.get("caption") or f"[{kind}]"
                    if body.get("id"):
                        media = (
                            MediaRef(
                                media_id=str(body["id"]),
                                content_type=body.get("mime_type"),
                                filename=body.get("filename"),
                            ),
                        )
                items.append(
                    InboundItem(
                        dedupe_key=f"msg:{message_id}",
                        conversation=str(wa_id),
                        sender=Party(phone="+" + str(wa_id).lstrip("+"), handle=str(wa_id), name=names.get(wa_id)),
                        text=text,
                        message_id=str(message_id),
                        metadata={"type": kind, "sent_at": _when(message.get("timestamp"))},
                        media=media,
                    )
                )
    return items


def parse_messenger(payload: dict[str, Any], config: MessengerConfig) -> list[InboundItem]:
    items: list[InboundItem] = []
    for entry in _list(payload.get("entry")):
        for event in _list(entry.get("messaging")):
            message = event.get("message")
            # Echoes of our own replies, reads and postbacks are not customer messages.
            if not isinstance(message, dict) or message.get("is_echo"):
                continue
            sender = _dict(event.get("sender")).get("id")
            mid = message.get("mid")
            if not sender or not mid:
                raise PayloadError("a Messenger message needs sender.id and mid")
            attachments = _list(message.get("attachments"))
            text = message.get("text") or " ".join(f"[{a.get('type', 'file')}]" for a in attachments)
            files = tuple(
                MediaRef(url=str(_dict(a.get("payload"))["url"]))
                for a in attachments
                if _dict(a.get("payload")).get("url")
            )
            items.append(
                InboundItem(
                    dedupe_key=f"msg:{mid}",
                    conversation=str(sender),
                    sender=Party(handle=str(sender)),
                    text=text,
                    message_id=str(mid),
                    metadata={"page_id": config.page_id, "sent_at": _when(event.get("timestamp"), per_second=1000)},
                    media=files,
                )
            )
    return items


def parse_generic(message: GenericMessageIn, webhook_id: str) -> InboundItem:
    return InboundItem(
        dedupe_key=f"webhook:{webhook_id}",
        conversation=message.conversation_id,
        sender=message.sender,
        text=message.text,
        message_id=message.message_id,
        subject=message.subject,
        metadata={**message.metadata, "webhook_id": webhook_id},
    )


def _with_tags(defaults: CaseDefaults, tags: tuple[str, ...]) -> CaseDefaults:
    if not tags:
        return defaults
    return defaults.model_copy(update={"tags": list(dict.fromkeys([*defaults.tags, *tags]))})


def _dict(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError("expected an object")
    return value


def _list(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise PayloadError("expected a list of objects")
    return value


async def store(
    session: AsyncSession,
    outbox: Outbox,
    blobs: BlobStore,
    channel: StoredChannel,
    items: list[InboundItem],
    files: dict[int, list[Media]] | None = None,
) -> list[uuid.UUID]:
    """Stage each new item with its files and event; returns the intake ids of those that were new."""
    stored: list[uuid.UUID] = []
    now = utcnow()
    for index, item in enumerate(items):
        attachments = [*item.attachments] + [
            AttachmentRef(
                sha256=await blobs.put(media.data),
                filename=media.filename,
                content_type=media.content_type,
                size=len(media.data),
            )
            for media in (files or {}).get(index, [])
        ]
        thread_key = channel.thread_key(item.conversation)
        event = MessageReceived(
            intake_id=uuid7(),
            channel=channel.suite_channel,
            received_at=now,
            thread_key=thread_key,
            sender=item.sender,
            recipient=f"channel:{channel.id}",
            subject=item.subject,
            text=item.text,
            message_id=item.message_id,
            conversation_id=thread_key,
            attachments=attachments,
            defaults=_with_tags(channel.case_defaults, item.tags),
            metadata={**item.metadata, "channel_id": str(channel.id), "channel_kind": channel.kind.value},
        )
        blocked = channel.blocks(item.sender)
        hold = None if blocked is None else (HoldReason.SPAM, f"sender {blocked} is on the channel's blocklist")
        if hold is None and item.spam is not None:
            hold = (HoldReason.SPAM, item.spam)
        new = await accept_message(
            session,
            outbox,
            event,
            source=f"channel:{channel.id}",
            channel_id=channel.id,
            dedupe_key=item.dedupe_key,
            fields={},
            hold=hold,
        )
        if new:
            stored.append(event.intake_id)
    return stored
