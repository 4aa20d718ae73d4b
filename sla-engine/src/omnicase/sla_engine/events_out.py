"""Where sla-engine's events go: straight to the outbox, or buffered for a batch.

Every producer of events here (tracking, actions) writes through an :class:`EventSink`.
The consumer passes the kit's :class:`~omnicase.kit.outbox.Outbox` itself; the timer
worker passes a :class:`BufferedOutbox` per batch, so a batch of timers costs one
``INSERT`` and one ``NOTIFY`` instead of two round trips per event, in the same
transaction and the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.events import Envelope, EventData
from omnicase.kit.outbox import Outbox


class EventSink(Protocol):
    async def add(self, session: AsyncSession, data: EventData, *, source: str, subject: str, key: str) -> Envelope:
        """Stage ``data`` for publication in the caller's transaction."""
        ...

    async def add_envelopes(self, session: AsyncSession, items: Sequence[tuple[str, Envelope, str]]) -> None:
        """Stage ``(logical topic, envelope, key)`` items, in order."""
        ...


class BufferedOutbox:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.items: list[tuple[str, Envelope, str]] = []

    async def add(self, session: AsyncSession, data: EventData, *, source: str, subject: str, key: str) -> Envelope:
        envelope = data.envelope(source=source, subject=subject)
        self.items.append((data.topic.value, envelope, key))
        return envelope

    async def add_envelopes(self, session: AsyncSession, items: Sequence[tuple[str, Envelope, str]]) -> None:
        self.items.extend(items)

    def mark(self) -> int:
        return len(self.items)

    def discard_from(self, mark: int) -> None:
        """Forget what was staged since ``mark`` (its savepoint was rolled back)."""
        del self.items[mark:]

    async def flush(self, session: AsyncSession) -> None:
        await self.outbox.add_envelopes(session, self.items)
        self.items.clear()
