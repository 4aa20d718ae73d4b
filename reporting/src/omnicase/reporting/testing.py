"""What reporting's tests share (and other folders' tests may use): events published as their owners publish them."""

from __future__ import annotations

import uuid

from omnicase.kit.bus.producer import EventProducer
from omnicase.kit.events import Envelope, EventData

# What the gateway forwards for an admin or an agent reading reports.
REPORTS_SCOPES = frozenset({"reports:read"})


class Publisher:
    """Publishes events as their owners do: an envelope made now (the kit clock), keyed by case."""

    def __init__(self, producer: EventProducer, prefix: str) -> None:
        self.producer = producer
        self.prefix = prefix
        self.sent: list[tuple[str, bytes]] = []

    async def __call__(self, event: EventData, case_id: uuid.UUID, *, source: str = "case-core") -> None:
        envelope = event.envelope(source=source, subject=str(case_id))
        await self.producer.publish(f"{self.prefix}{event.topic.value}", envelope, key=str(case_id))
        self.sent.append((f"{self.prefix}{event.topic.value}", envelope.to_bytes()))

    async def again(self) -> None:
        """Every record once more, as a broker redelivers after a lost commit."""
        for topic, raw in self.sent:
            envelope = Envelope.from_bytes(raw)
            await self.producer.publish(topic, envelope, key=envelope.subject)
