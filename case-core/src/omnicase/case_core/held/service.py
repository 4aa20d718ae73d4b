"""The held-messages queue: kept as the intakes report them, recovered once, deleted or expired.

An intake that holds a message back (a bounce answering no case, a mail loop, a sender
the loop guard suspended, spam) still stores it and sends it here as
``intake.message_held``; case-core keeps it and answers ``case.held_message_kept``, the
intake's end-to-end acknowledgement, so a broker that loses either side loses nothing.
Recovering hands the message to the same intake path every other message takes, in
the request's transaction, so it becomes one case (or joins its thread) exactly once.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.cases.service import CaseService
from omnicase.case_core.held.repository import HeldMessageRepository, HeldMessageRow
from omnicase.case_core.identity import Actor
from omnicase.case_core.messages.repository import MessageRepository
from omnicase.case_core.settings import CaseCoreSettings
from omnicase.kit.clock import utcnow
from omnicase.kit.errors import Conflict, NotFound
from omnicase.kit.events import HeldMessageKept, MessageHeld, MessageReceived
from omnicase.kit.outbox import Outbox

HELD_MESSAGES = Counter(
    "omnicase_held_messages_total",
    "Held messages by channel, reason and what became of them (held, recovered, deleted, expired)",
    ["channel", "reason", "outcome"],
)

SWEEP_BATCH = 500

HandOn = Callable[[AsyncSession, MessageReceived], Awaitable[None]]


class HeldMessageNotFound(NotFound):
    slug = "held-message-not-found"


class HeldMessageSettled(Conflict):
    slug = "held-message-settled"


class HeldMessageService:
    def __init__(self, settings: CaseCoreSettings, outbox: Outbox, cases: CaseService) -> None:
        self.settings = settings
        self.outbox = outbox
        self.cases = cases

    async def keep(self, session: AsyncSession, arrivals: Sequence[tuple[MessageHeld, str]]) -> None:
        """Keep each ``(held message, intake service)`` not kept before, and acknowledge every one."""
        if not arrivals:
            return
        now = utcnow()
        expires_at = now + timedelta(days=self.settings.held_message_retention_days)
        rows = {
            held.message.intake_id: HeldMessageRow(
                id=held.message.intake_id,
                source=source[:80],
                channel=held.message.channel.value,
                reason=held.reason.value,
                detail=held.detail,
                sender=held.message.sender.model_dump(mode="json", exclude_none=True),
                subject=held.message.subject,
                message=held.message.model_dump(mode="json"),
                received_at=held.message.received_at,
                held_at=now,
                expires_at=expires_at,
                status="held",
            )
            for held, source in arrivals
        }
        for row in await HeldMessageRepository(session).insert_many(list(rows.values())):
            HELD_MESSAGES.labels(row.channel, row.reason, "held").inc()
        # Copies kept before are acknowledged again: the intake asked because it lost the first answer.
        await self.outbox.add_envelopes(
            session,
            [
                (kept.topic.value, kept.envelope(source="case-core", subject=str(intake_id)), str(intake_id))
                for intake_id in rows
                for kept in [HeldMessageKept(source_intake_id=intake_id)]
            ],
        )

    async def page(
        self,
        session: AsyncSession,
        *,
        channel: str | None,
        reason: str | None,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[HeldMessageRow]:
        return await HeldMessageRepository(session).page(channel=channel, reason=reason, after=after, limit=limit)

    async def get(self, session: AsyncSession, held_id: uuid.UUID) -> HeldMessageRow:
        row = await HeldMessageRepository(session).get(held_id)
        if row is None or row.status == "deleted":
            raise HeldMessageNotFound(f"No held message {held_id}.")
        return row

    async def recover(self, session: AsyncSession, held_id: uuid.UUID, actor: Actor, hand_on: HandOn) -> HeldMessageRow:
        """Hand the message on as if it had never been held; :class:`HeldMessageSettled` the second time."""
        row = await self._unsettled(session, held_id, "recovered")
        message = MessageReceived.model_validate(row.message)
        await hand_on(session, message)
        became = await MessageRepository(session).already_received(message.intake_id, None)
        case = await self.cases.get(session, became.case_id) if became is not None else None
        settled = await HeldMessageRepository(session).settle(
            held_id,
            status="recovered",
            settled_by=actor.name,
            settled_at=utcnow(),
            case_id=case.id if case else None,
            case_number=case.number if case else None,
        )
        HELD_MESSAGES.labels(row.channel, row.reason, "recovered").inc()
        return settled

    async def delete(self, session: AsyncSession, held_id: uuid.UUID, actor: Actor) -> None:
        """Gone from the queue; kept as a tombstone so a late copy from the intake does not bring it back."""
        row = await self._unsettled(session, held_id, "deleted")
        await HeldMessageRepository(session).settle(
            held_id, status="deleted", settled_by=actor.name, settled_at=utcnow()
        )
        HELD_MESSAGES.labels(row.channel, row.reason, "deleted").inc()

    async def sweep(self, session: AsyncSession) -> tuple[int, int]:
        """One batch: expired held messages deleted, tombstones past the retention pruned."""
        now = utcnow()
        expired = await HeldMessageRepository(session).delete_expired(now, SWEEP_BATCH)
        for channel, reason in expired:
            HELD_MESSAGES.labels(channel, reason, "expired").inc()
        retention = timedelta(days=self.settings.held_message_retention_days)
        pruned = await HeldMessageRepository(session).delete_settled_before(now - retention, SWEEP_BATCH)
        return len(expired), pruned

    async def _unsettled(self, session: AsyncSession, held_id: uuid.UUID, change: str) -> HeldMessageRow:
        row = await HeldMessageRepository(session).get(held_id, lock=True)
        if row is None or row.status == "deleted":
            raise HeldMessageNotFound(f"No held message {held_id}.")
        if row.status == "recovered":
            raise HeldMessageSettled(
                f"The held message was recovered already (case #{row.case_number}); it cannot be {change}.",
                extra={"case_id": str(row.case_id) if row.case_id else None},
            )
        return row
