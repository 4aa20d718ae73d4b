"""An agent's voice status and what moves it: the agent or an admin (available, offline), a call they
answered or placed (busy), that call's end and the agent's wrap-up time after it (back to what the agent
last said: available, or offline for calls).

Every change is told on ``routing.events`` (``agent.voice_status_changed``, keyed by the agent) in the
transaction that makes it, and an agent who becomes available for calls is pushed the waiting work that
fits them at once (a call waiting in their queue rings them). A change to the same state is no change: no
write, no event. The agent's row is locked first, then, by the push, waiting cases with ``SKIP LOCKED``,
so this never waits on a case another transaction routes.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from omnicase.kit.clock import utcnow
from omnicase.kit.events import AgentVoiceStatusChanged
from omnicase.routing.engine import VoiceStatus
from omnicase.routing.errors import AgentNotFound, OfferNotPending
from omnicase.routing.voice.repository import VoiceRepository, VoiceRow
from omnicase.routing.work.service import SOURCE, RoutingService, is_call


class VoiceStatusService:
    def __init__(self, routing: RoutingService) -> None:
        self.routing = routing
        self.repo = VoiceRepository(routing.session)

    async def set_by_person(self, user_id: uuid.UUID, status: VoiceStatus, reason: str | None) -> None:
        """The agent (or an admin) says whether they take calls; it ends a call or a wrap-up routing counted
        (the agent's word wins: a call's end may never have been reported)."""
        row = await self.repo.lock(user_id)
        if row is None:
            raise AgentNotFound(f"Agent {user_id} does not exist.")
        await self._change(row, status, None, None, reason or f"set {status}", chosen=status)

    async def on_call(self, user_id: uuid.UUID, call_id: uuid.UUID, how: str) -> None:
        """The agent answered or placed ``call_id``: busy until it ends (a person who is no routing agent is
        not counted). Calls still offered to them go back to their queues: nobody takes two calls at once."""
        # Case rows first, agent row after: the order routing takes locks in everywhere.
        await self.routing.lock_cases_offered_to(user_id)
        row = await self.repo.lock(user_id)
        if row is None or row.call_id == call_id:
            return
        await self._change(row, VoiceStatus.BUSY, call_id, None, f"{how} call {call_id}")
        for offer in await self.routing.repo.pending_offers_of(user_id):
            case = await self.routing.repo.get_case(offer.case_id)
            if case is None or not is_call(case.channel):
                continue
            try:
                await self.routing.decline(offer.id, f"agent busy on call {call_id}", outcome="revoked")
            except OfferNotPending:
                continue

    async def call_ended(self, call_id: uuid.UUID, ended_at: datetime) -> None:
        """``call_id`` is over: its agent is back to what they said (available, or offline for calls: an agent
        who took no calls placing one) once their wrap-up time after the end is over."""
        for row in await self.repo.lock_on_call(call_id):
            until = ended_at + timedelta(seconds=row.wrap_up_seconds)
            if row.wrap_up_seconds > 0 and until > utcnow():
                await self._change(row, VoiceStatus.BUSY, None, until, f"call {call_id} ended; wrapping up")
            else:
                await self._change(row, row.chosen, None, None, f"call {call_id} ended")

    async def end_due_wrap_ups(self, limit: int) -> int:
        """Agents whose wrap-up is over are back to what they said (the timer worker's poll); how many."""
        due = await self.repo.claim_due_wrap_ups(utcnow(), limit)
        for row in due:
            await self._change(row, row.chosen, None, None, "wrap-up over")
        return len(due)

    async def _change(
        self,
        row: VoiceRow,
        status: VoiceStatus,
        call_id: uuid.UUID | None,
        wrap_up_until: datetime | None,
        reason: str,
        *,
        chosen: VoiceStatus | None = None,
    ) -> None:
        # A person's choice equal to the status is their choice already (available or offline are only
        # ever the chosen status), so a no-op leaves nothing to record.
        if (row.status, row.call_id, row.wrap_up_until) == (status, call_id, wrap_up_until):
            return
        now = utcnow()
        await self.repo.set(row.user_id, status, call_id, wrap_up_until, now, chosen=chosen)
        changed = AgentVoiceStatusChanged(
            agent_id=row.user_id,
            status=status.value,
            previous=row.status.value,
            call_id=call_id,
            wrap_up_until=wrap_up_until,
            reason=reason[:500],
            changed_at=now,
        )
        key = str(row.user_id)
        await self.routing.outbox.add(self.routing.session, changed, source=SOURCE, subject=key, key=key)
        if status is VoiceStatus.AVAILABLE and row.status is not VoiceStatus.AVAILABLE:
            await self.routing.push_to_agent(row.user_id, "agent available for calls")
