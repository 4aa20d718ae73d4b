"""The event producer every service shares (acks=all; idempotence per settings)."""

from __future__ import annotations

import asyncio
from typing import Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord, RecordMetadata

from omnicase.kit.events import Envelope, intake_channel_of

Headers = list[tuple[str, bytes]]


def record_header(record: ConsumerRecord[bytes, bytes], wanted: str) -> str | None:
    """A record's header ``wanted`` as text (the first of that name), or None if it has none."""
    for name, value in record.headers or ():
        if name == wanted:
            return bytes(value).decode(errors="replace")
    return None


# The channel whose intake a record is for (:meth:`~omnicase.kit.events.EventData.intake_channel`).
INTAKE_CHANNEL_HEADER = "intake-channel"
EVENT_TYPE_HEADER = "event-type"


def envelope_headers(envelope: Envelope) -> Headers:
    headers: Headers = [
        ("content-type", b"application/json"),
        ("event-id", str(envelope.id).encode()),
        (EVENT_TYPE_HEADER, envelope.type.encode()),
        ("schema-version", str(envelope.schema_version).encode()),
    ]
    if envelope.trace_id:
        headers.append(("trace-id", envelope.trace_id.encode()))
    if (channel := intake_channel_of(envelope)) is not None:
        headers.append((INTAKE_CHANNEL_HEADER, channel.encode()))
    return headers


class RecordPublisher(Protocol):
    """What the outbox relay needs of a producer."""

    async def enqueue(
        self, topic: str, value: bytes, *, key: bytes | None, headers: Headers | None = None
    ) -> asyncio.Future[RecordMetadata]: ...


class EventProducer:
    def __init__(self, bootstrap_servers: str, *, client_id: str, enable_idempotence: bool = False) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers,
            client_id=client_id,
            acks="all",
            enable_idempotence=enable_idempotence,
            linger_ms=2,
            request_timeout_ms=15000,
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def enqueue(
        self, topic: str, value: bytes, *, key: bytes | None, headers: Headers | None = None
    ) -> asyncio.Future[RecordMetadata]:
        """Queue one record; the returned future resolves once the broker acknowledged it.

        Records queued in order for the same partition are sent in that order.
        """
        ack: asyncio.Future[RecordMetadata] = await self._producer.send(topic, value, key=key, headers=headers or [])
        return ack

    async def send(self, topic: str, value: bytes, *, key: bytes | None, headers: Headers | None = None) -> None:
        await (await self.enqueue(topic, value, key=key, headers=headers))

    async def publish(self, topic: str, envelope: Envelope, *, key: str) -> None:
        await self.send(topic, envelope.to_bytes(), key=key.encode(), headers=envelope_headers(envelope))

    async def ping(self) -> None:
        """Raise if the broker cannot be reached (used by readiness)."""
        await self._producer.client.fetch_all_metadata()
