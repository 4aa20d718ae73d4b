"""What a consumer hands its handler: a batch of events, each parsed once and typed.

A handler is ``async def handle(session, batch)``. It runs inside the batch's one
transaction (the kit opens and commits it) and sees only events that are new to its
consumer group (the inbox already dropped redeliveries) and of the types its binding
``accepts`` (the rest are skipped on the ``event-type`` header, before decoding).
Records of one partition keep their order; partitions follow one another.

Handlers dispatch on the type of ``received.data`` (``match``), never on
``envelope.type`` strings, and write the batch with set-based SQL where the path is
hot. :func:`one_at_a_time` adapts a handler whose work is naturally per event.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.context import trace_id_var
from omnicase.kit.events import Envelope, EventData

DataT_co = TypeVar("DataT_co", bound=EventData, covariant=True)


@dataclass(frozen=True, slots=True)
class Received(Generic[DataT_co]):
    """One consumed event: its envelope and its typed data."""

    envelope: Envelope
    data: DataT_co

    @contextmanager
    def traced(self) -> Iterator[None]:
        """Events written while inside carry this event's trace id."""
        token = trace_id_var.set(self.envelope.trace_id)
        try:
            yield
        finally:
            trace_id_var.reset(token)


Batch = Sequence[Received[EventData]]
BatchHandler = Callable[[AsyncSession, Batch], Awaitable[None]]
# Asked before each batch, on a session whose statements each run alone (no BEGIN or
# COMMIT round trip; :meth:`~omnicase.kit.db.Database.statements_alone`): False means the
# handler would do nothing with any event right now (no webhook subscribed, say), so the
# batch is passed over unclaimed.
WantsEvents = Callable[[AsyncSession], Awaitable[bool]]


def event_types(*contracts: type[EventData]) -> frozenset[str]:
    """The ``event-type`` header values of ``contracts`` (what a binding accepts)."""
    return frozenset(contract.event_type for contract in contracts)
