"""End-to-end acknowledgement, the intakes' side: an inbound message is handed on again until
case-core confirms it.

case-core's events confirm a message (:func:`confirmed_by`): ``case.created`` (it opened a case)
or an inbound ``case.message_added`` (it joined one) naming its intake id, the first event naming
one winning, and ``case.held_message_kept`` for a held one case-core keeps where staff may recover it.

A broker that lost an ``intake.message_received`` or ``intake.message_held`` (or case-core's
answer) must not lose the customer's message: every so often each intake stages again, in its
outbox and under a new event id, the messages case-core has not confirmed that were last
published before a cutoff. case-core knows the intake id and confirms again instead of opening a
second case. The intake's repository claims them with ``FOR UPDATE SKIP LOCKED``, so replicas
share the work.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.clock import utcnow
from omnicase.kit.db import Database
from omnicase.kit.events import (
    CaseCreated,
    CaseMessageAdded,
    EventData,
    HeldMessageKept,
    HoldReason,
    MessageHeld,
    MessageReceived,
)
from omnicase.kit.outbox import Outbox


@dataclass(frozen=True)
class Confirmed:
    """What a batch of case-core's events confirms."""

    cases: list[tuple[uuid.UUID, uuid.UUID, int | None]]  # (intake id, case id, case number)
    kept: list[uuid.UUID]  # intake ids of held messages case-core keeps


def confirmed_by(events: Iterable[CaseCreated | CaseMessageAdded | HeldMessageKept]) -> Confirmed:
    """The messages ``events`` confirm (see the module); another intake's ids are for its repository to ignore."""
    cases: dict[uuid.UUID, tuple[uuid.UUID, int | None]] = {}
    kept: list[uuid.UUID] = []
    for event in events:
        match event:
            case HeldMessageKept(source_intake_id=intake_id):
                kept.append(intake_id)
            case CaseCreated(source_intake_id=uuid.UUID() as intake_id):
                cases.setdefault(intake_id, (event.case.case_id, event.case.number))
            case CaseMessageAdded(source_intake_id=uuid.UUID() as intake_id, direction="inbound"):
                cases.setdefault(intake_id, (event.case_id, event.case.number if event.case else None))
    return Confirmed([(intake_id, case_id, number) for intake_id, (case_id, number) in cases.items()], kept)


@dataclass(frozen=True)
class Unconfirmed:
    """A stored inbound message case-core has not confirmed: what was handed on, and why it was held."""

    intake_id: uuid.UUID
    message: dict[str, Any]  # the MessageReceived data first handed on
    hold_reason: str | None = None
    hold_detail: str | None = None


class UnconfirmedMessages(Protocol):
    """An intake's repository of inbound messages, as republication uses it."""

    async def claim_unconfirmed(self, published_before: datetime, limit: int) -> Sequence[Unconfirmed]: ...

    async def mark_published(self, intake_ids: Sequence[uuid.UUID], now: datetime) -> None: ...


async def republish_unconfirmed(
    database: Database,
    outbox: Outbox,
    source: str,
    messages: Callable[[AsyncSession], UnconfirmedMessages],
    older_than: timedelta,
    limit: int,
) -> int:
    """One round: stage again up to ``limit`` messages unconfirmed and last published ``older_than``
    ago, keyed by their thread; returns how many."""
    now = utcnow()
    async with database.unit_of_work() as session:
        repository = messages(session)
        due = await repository.claim_unconfirmed(now - older_than, limit)
        for message in due:
            received = MessageReceived.model_validate(message.message)
            event: EventData = received
            if message.hold_reason is not None:
                reason = HoldReason(message.hold_reason)
                event = MessageHeld(message=received, reason=reason, detail=message.hold_detail or "")
            await outbox.add(session, event, source=source, subject=str(message.intake_id), key=received.thread_key)
        if due:
            await repository.mark_published([message.intake_id for message in due], now)
    return len(due)
