"""Routing of cases to agents: what happens when a case event arrives, an offer is
answered or lapses, a case overflows, or an agent's presence or capacity changes.

Every path runs in the caller's transaction (consumer batch, request, timer poll)
and takes locks in one order — case row, then offer, then agent rows — so
concurrent paths wait for each other instead of deadlocking in the common cases.
Case state is never written here: group moves and assignments go to case-core as
``case.commands`` through the outbox, keyed by the case id. Offers are told on
``routing.events`` (same outbox, same key) for agents' consoles: ``offer.created`` when
one is made pending, ``offer.ended`` when it stops being pending, whatever the path.
Auto-accepted offers are assignments, not offers to answer, and are not told.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.clock import utcnow
from omnicase.kit.events import (
    AssignCase,
    CaseSnapshot,
    CaseStatus,
    ChangeCase,
    Channel,
    EventData,
    OfferCreated,
    OfferEnded,
    OfferOutcome,
    Priority,
)
from omnicase.kit.outbox import Outbox
from omnicase.kit.pagination import Int16, Page, decode_cursor, decode_id_cursor, paginate
from omnicase.routing.engine import (
    PRIORITY_RANK,
    CaseFacts,
    Presence,
    RoutingModel,
    RuleMatch,
    RuleSpec,
    Selection,
    VoiceStatus,
    WorkItem,
    ineligibility,
    match_rules,
    select_agents,
)
from omnicase.routing.errors import CaseNotKnown, GroupNotFound, OfferNotFound, OfferNotPending
from omnicase.routing.metrics import DECISION_SECONDS, DECISIONS
from omnicase.routing.settings import RoutingSettings
from omnicase.routing.work.repository import CaseRow, OfferRow, QueueRow, WorkRepository
from omnicase.routing.work.schemas import (
    Decision,
    Offer,
    OfferStatus,
    QueuedWork,
    QueueSummary,
    RoutedCase,
    offer_of,
)

logger = logging.getLogger(__name__)

SOURCE = "routing"
# case-core records a command's reason as the actor of the change it makes; every
# reason routing gives starts with this, so routing knows its own echoes.
COMMAND_ACTOR = "routing:"
CLOSED_STATUSES = {CaseStatus.SOLVED, CaseStatus.CLOSED}
# Fields assignment rules read: a change to one re-evaluates the rules of waiting work.
RULE_FIELDS = frozenset(
    {"priority", "channel", "brand", "type", "tags", "custom_fields", "organization_id", "language", "subject"}
)
QUEUED_STATES = ("waiting", "offered")
# Fitting work looked at per push; an agent's free capacity is far below it.
PUSH_SCAN_LIMIT = 50

DispatchOutcome = Literal["assigned", "offered"]


def case_facts(case: CaseRow) -> CaseFacts:
    return CaseFacts(
        channel=Channel(case.channel),
        priority=Priority(case.priority),
        brand=case.brand,
        type=case.type,
        tags=tuple(case.tags),
        custom_fields=case.custom_fields,
        organization_id=case.organization_id,
        language=case.language,
        subject=case.subject,
        description=case.description,
    )


def is_call(channel: str) -> bool:
    """A case of the voice channel: a call, which only an agent available for calls may take."""
    return channel == Channel.VOICE.value


def _required(case: CaseRow) -> dict[uuid.UUID, int]:
    return {uuid.UUID(skill_id): level for skill_id, level in case.required_skills.items()}


def snapshot_values(snapshot: CaseSnapshot, settings: RoutingSettings) -> dict[str, Any]:
    """The projection's columns a snapshot sets (what routing reads of a case)."""
    return {
        "number": snapshot.number,
        "version": snapshot.version,
        "subject": snapshot.subject,
        "status": snapshot.status.value,
        "priority": snapshot.priority.value,
        "priority_rank": PRIORITY_RANK[snapshot.priority],
        "channel": snapshot.channel.value,
        "type": snapshot.type,
        "brand": snapshot.brand,
        "tags": list(snapshot.tags),
        "custom_fields": dict(snapshot.custom_fields),
        "organization_id": snapshot.organization_id,
        "language": snapshot.language,
        "cost": settings.cost_of(snapshot.channel),
    }


def rule_log(match: RuleMatch) -> list[dict[str, Any]]:
    return [
        {"rule_id": str(v.rule_id), "name": v.name, "matched": v.matched, "reason": v.reason} for v in match.verdicts
    ]


def unrouted_summary(trigger: str) -> str:
    return f"{trigger}: no rule matched and the case is in no queue routing knows; it waits for a person."


def queued_decision(
    trigger: str,
    queue: QueueRow,
    *,
    rule: RuleSpec | None,
    rules: list[dict[str, Any]] | None,
    required: Mapping[uuid.UUID, int],
    names: Mapping[uuid.UUID, str],
    require_language: bool,
    cost: int,
) -> tuple[str, dict[str, Any]]:
    """Summary and details of a "queued" decision."""
    if rule is not None:
        summary = f"{trigger}: rule '{rule.name}' matched; queued in '{queue.name}'"
    else:
        summary = f"{trigger}: queued in '{queue.name}'" + (" (no rule matched)" if rules is not None else "")
    return summary + ".", {
        "rules": rules or [],
        "required_skills": [
            {"skill_id": str(skill_id), "name": names.get(skill_id), "min_level": level}
            for skill_id, level in required.items()
        ],
        "require_language": require_language,
        "cost": cost,
    }


def dispatch_details(
    queue: QueueRow,
    considered: int,
    selection: Selection,
    chosen: uuid.UUID | None,
    lost: Sequence[uuid.UUID],
    kept: int,
) -> dict[str, Any]:
    """Details of a dispatch decision: the candidates, best first, with why each was or was not chosen."""
    return {
        "queue": queue.name,
        "routing_model": queue.routing_model.value,
        "candidates_total": considered,
        "candidates": [
            {
                "agent_id": str(verdict.agent_id),
                "eligible": verdict.eligible,
                "chosen": verdict.agent_id == chosen,
                "rank": verdict.rank,
                "reason": "capacity taken by a concurrent assignment" if verdict.agent_id in lost else verdict.reason,
            }
            for verdict in selection.verdicts[:kept]
        ],
    }


def waiting_summary(trigger: str, queue: QueueRow, considered: int) -> str:
    return f"{trigger}: no agent of '{queue.name}' can take it now ({considered} considered); it waits."


def assigned_reason(queue: QueueRow) -> str:
    return f"{COMMAND_ACTOR} {queue.routing_model.value} in '{queue.name}'"


def offer_created(offer: OfferRow) -> OfferCreated:
    return OfferCreated(
        offer_id=offer.id,
        case_id=offer.case_id,
        agent_id=offer.agent_id,
        group_id=offer.group_id,
        expires_at=offer.expires_at,
        created_at=offer.created_at,
    )


def handed_out_summary(trigger: str, outcome: str, agent_id: uuid.UUID, queue: QueueRow, eligible: int) -> str:
    if outcome == "assigned":
        summary = f"assigned to agent {agent_id} (queue auto-accepts)"
    else:
        summary = f"offered to agent {agent_id} for {queue.offer_timeout_seconds} s"
    return f"{trigger}: {summary}; best of {eligible} eligible in '{queue.name}'."


class RoutingService:
    def __init__(self, session: AsyncSession, outbox: Outbox, settings: RoutingSettings) -> None:
        self.session = session
        self.repo = WorkRepository(session)
        self.outbox = outbox
        self.settings = settings
        # The case the running apply_snapshot call created: no offers or timers to look up.
        self._fresh: set[uuid.UUID] = set()

    # -- case events ----------------------------------------------------------------

    async def apply_snapshot(
        self,
        snapshot: CaseSnapshot,
        *,
        actor: str,
        changed: frozenset[str] = frozenset(),
        description: str | None = None,
        created: bool = False,
    ) -> None:
        """Bring the projection up to ``snapshot`` and route, re-route or release as it requires."""
        try:
            await self._apply_snapshot(snapshot, actor=actor, changed=changed, description=description, created=created)
        finally:
            self._fresh.clear()

    async def _apply_snapshot(
        self,
        snapshot: CaseSnapshot,
        *,
        actor: str,
        changed: frozenset[str],
        description: str | None,
        created: bool,
    ) -> None:
        facts = self._snapshot_values(snapshot)
        inserted = await self.repo.insert_case(
            {
                **facts,
                "case_id": snapshot.case_id,
                "description": description or "",
                "group_id": snapshot.group_id,
                "assignee_id": snapshot.assignee_id,
                "state": "unrouted",
                "updated_at": utcnow(),
            }
        )
        fresh = inserted is not None
        if inserted is not None:
            # Nobody else can see the row until we commit: no lock needed, nothing to undo.
            self._fresh.add(inserted.case_id)
            case = inserted
        else:
            locked = await self.repo.get_case(snapshot.case_id, lock=True)
            assert locked is not None
            case = locked
        if not fresh:
            if snapshot.version <= case.version:
                return  # an older or already applied view of the case
            await self.repo.update_case(case.case_id, **facts)
            case = dataclasses.replace(case, **facts)

        if snapshot.status in CLOSED_STATUSES:
            if case.state != "closed":
                await self._close(case, f"case {snapshot.status}")
            return
        if fresh or case.state == "closed":
            trigger = "new case" if fresh or created else "case reopened"
            if snapshot.assignee_id is not None:
                await self._take_assignment(case, snapshot.assignee_id, actor, trigger)
            else:
                await self._route(case, snapshot.group_id, trigger)
            return
        if actor.startswith(COMMAND_ACTOR):
            # case-core applying one of our own commands: the projection already holds
            # it, or a later decision of ours that this (older) echo must not undo.
            return
        if "assignee_id" in changed and snapshot.assignee_id != case.assignee_id:
            if snapshot.assignee_id is not None:
                await self._take_assignment(case, snapshot.assignee_id, actor, f"assigned by {actor}")
            else:
                await self._let_go(case, f"unassigned by {actor}")
                await self.repo.update_case(case.case_id, assignee_id=None, state="unrouted")
                case = dataclasses.replace(case, assignee_id=None, state="unrouted")
                await self._route(case, snapshot.group_id, f"unassigned by {actor}")
            return
        if "group_id" in changed and snapshot.group_id != case.group_id:
            # A person moved the case: routing follows, and does not echo the move back.
            queue = await self.repo.queue(snapshot.group_id) if snapshot.group_id else None
            trigger = f"moved by {actor}"
            if case.state in ("unrouted", *QUEUED_STATES) and queue is not None:
                await self._enqueue(
                    case, queue, rule=None, required={}, require_language=False, trigger=trigger, announce=False
                )
            elif case.state in QUEUED_STATES:
                await self._let_go(case, trigger)
                await self.repo.cancel_timers(case.case_id)
                await self.repo.update_case(case.case_id, group_id=snapshot.group_id, state="unrouted", queued_at=None)
                await self._decision(
                    case.case_id,
                    "unrouted",
                    f"{trigger} to a group routing does not route; it waits for a person.",
                    group_id=snapshot.group_id,
                )
            else:
                await self.repo.update_case(case.case_id, group_id=snapshot.group_id)
            return
        if changed & RULE_FIELDS and case.state in ("unrouted", "waiting"):
            await self._route(
                case, case.group_id or snapshot.group_id, f"{', '.join(sorted(changed & RULE_FIELDS))} changed"
            )

    def _snapshot_values(self, snapshot: CaseSnapshot) -> dict[str, Any]:
        return snapshot_values(snapshot, self.settings)

    # -- routing ----------------------------------------------------------------------

    async def _route(self, case: CaseRow, fallback_group: uuid.UUID | None, trigger: str) -> None:
        """Evaluate the rules and queue the case where they say (or where it already is)."""
        config = await self.repo.routing_config()
        with DECISION_SECONDS.labels("rules").time():
            match = match_rules(config.rules, case_facts(case))
        rules = rule_log(match)
        rule = match.rule
        queue_id = rule.target_group_id if rule else fallback_group
        queue = config.queues.get(queue_id) if queue_id else None
        if queue is None:
            await self._let_go(case, "no queue")
            await self.repo.update_case(case.case_id, state="unrouted", queued_at=None, rule_id=None)
            await self.repo.cancel_timers(case.case_id)
            await self._decision(
                case.case_id,
                "unrouted",
                unrouted_summary(trigger),
                details={"rules": rules},
            )
            return
        required = dict(rule.required_skills) if rule else ({} if queue.id != case.group_id else _required(case))
        require_language = rule.require_language if rule else case.require_language
        unchanged = (
            case.state in QUEUED_STATES
            and queue.id == case.group_id
            and (rule.rule_id if rule else case.rule_id) == case.rule_id
            and required == _required(case)
        )
        if unchanged:
            return
        await self._enqueue(
            case,
            queue,
            rule=rule,
            required=required,
            require_language=require_language,
            trigger=trigger,
            rule_log=rules,
        )

    async def _enqueue(
        self,
        case: CaseRow,
        queue: QueueRow,
        *,
        rule: RuleSpec | None,
        required: Mapping[uuid.UUID, int],
        require_language: bool,
        trigger: str,
        rule_log: list[dict[str, Any]] | None = None,
        announce: bool = True,
    ) -> None:
        """Put the case in ``queue``'s line and try to hand it out; ``announce``: tell
        case-core about a change of group (not when case-core told us)."""
        now = utcnow()
        if case.state == "offered":
            await self._let_go(case, f"re-queued ({trigger})")
        moved = queue.id != case.group_id
        values: dict[str, Any] = {
            "group_id": queue.id,
            "rule_id": rule.rule_id if rule else (case.rule_id if not moved else None),
            "required_skills": {str(skill_id): level for skill_id, level in required.items()},
            "require_language": require_language,
            "state": "waiting",
            "queued_at": case.queued_at if case.state in QUEUED_STATES and case.queued_at else now,
            "group_entered_at": now if moved or case.group_entered_at is None else case.group_entered_at,
            "holder_id": None,
            "holder_cost": 0,
            "holder_since": None,
        }
        await self.repo.update_case(case.case_id, **values)
        case = dataclasses.replace(case, **values)
        if case.case_id not in self._fresh:
            await self.repo.cancel_timers(case.case_id)
        await self._schedule_overflow(case, queue)
        names = await self.repo.skill_names(list(required))
        summary, details = queued_decision(
            trigger,
            queue,
            rule=rule,
            rules=rule_log,
            required=required,
            names=names,
            require_language=require_language,
            cost=case.cost,
        )
        await self._decision(
            case.case_id, "queued", summary, rule_id=rule.rule_id if rule else None, group_id=queue.id, details=details
        )
        outcome = await self._dispatch(case, queue, trigger, names)
        if moved and announce and outcome != "assigned":
            # An assignment carries its group (case-core applies both from AssignCase):
            # a move is told on its own only when nobody takes the case at once.
            await self._stage(
                ChangeCase(case_id=case.case_id, group_id=queue.id, reason=f"{COMMAND_ACTOR} {trigger}"), case.case_id
            )

    async def _schedule_overflow(self, case: CaseRow, queue: QueueRow) -> None:
        if queue.overflow_after_seconds is None or queue.overflow_group_id is None or case.group_entered_at is None:
            return
        due = case.group_entered_at + timedelta(seconds=queue.overflow_after_seconds)
        await self.repo.add_timer("overflow", case.case_id, due)

    async def _dispatch(
        self, case: CaseRow, queue: QueueRow, trigger: str, names: Mapping[uuid.UUID, str] | None = None
    ) -> DispatchOutcome | None:
        """Pick the best agent of the queue for a waiting case and offer (or assign) it;
        what happened, or ``None`` when nobody could take it."""
        required = _required(case)
        work = WorkItem(
            cost=case.cost,
            required_skills=required,
            language=case.language,
            require_language=case.require_language,
            call=is_call(case.channel),
            excluded=frozenset()
            if case.case_id in self._fresh
            else await self.repo.agents_who_passed(case.case_id, queue.id),
        )
        candidates = await self.repo.candidates(queue.id)
        if names is None:
            names = await self.repo.skill_names(list(required))
        with DECISION_SECONDS.labels("agents").time():
            selection = select_agents(work, candidates, queue.routing_model, names)
        chosen = None
        lost: list[uuid.UUID] = []
        for candidate in selection.ranked:
            if await self.repo.reserve(candidate.agent_id, case.cost, call=is_call(case.channel)):
                chosen = candidate
                break
            lost.append(candidate.agent_id)
        details = dispatch_details(
            queue,
            len(candidates),
            selection,
            chosen.agent_id if chosen else None,
            lost,
            self.settings.decision_candidates_kept,
        )
        if chosen is None:
            await self._decision(
                case.case_id,
                "waiting",
                waiting_summary(trigger, queue, len(candidates)),
                group_id=queue.id,
                details=details,
            )
            return None
        if queue.routing_model is RoutingModel.ROUND_ROBIN:
            await self.repo.mark_offered_in_queue(queue.id, chosen.agent_id)
        now = utcnow()
        kind: DispatchOutcome
        holding = {"holder_id": chosen.agent_id, "holder_cost": case.cost, "holder_since": now}
        if queue.offer_timeout_seconds is None:
            await self.repo.add_offer(
                case_id=case.case_id,
                agent_id=chosen.agent_id,
                group_id=queue.id,
                status="accepted",
                cost=case.cost,
                expires_at=None,
            )
            await self.repo.update_case(case.case_id, state="assigned", assignee_id=chosen.agent_id, **holding)
            await self.repo.cancel_timers(case.case_id)
            await self._stage(
                AssignCase(
                    case_id=case.case_id,
                    assignee_id=chosen.agent_id,
                    group_id=queue.id,
                    reason=assigned_reason(queue),
                ),
                case.case_id,
            )
            kind = "assigned"
        else:
            expires = now + timedelta(seconds=queue.offer_timeout_seconds)
            offer = await self.repo.add_offer(
                case_id=case.case_id,
                agent_id=chosen.agent_id,
                group_id=queue.id,
                status="pending",
                cost=case.cost,
                expires_at=expires,
            )
            await self.repo.update_case(case.case_id, state="offered", **holding)
            await self.repo.add_timer("offer_timeout", case.case_id, expires, offer.id)
            await self._stage(offer_created(offer), case.case_id)
            details["offer_id"] = str(offer.id)
            kind = "offered"
        await self._decision(
            case.case_id,
            kind,
            handed_out_summary(trigger, kind, chosen.agent_id, queue, len(selection.ranked)),
            rule_id=case.rule_id,
            group_id=queue.id,
            agent_id=chosen.agent_id,
            details=details,
        )
        return kind

    # -- holding and releasing capacity ------------------------------------------------

    async def _let_go(self, case: CaseRow, reason: str) -> uuid.UUID | None:
        """Free the capacity the case holds and end its live offer; returns the agent freed."""
        offer = await self.repo.live_offer(case.case_id)
        if offer is not None and offer.status == "pending":
            await self._end_offer(offer, "revoked", reason[:500])
        elif offer is not None:
            await self.repo.set_offer_status(offer.id, "completed", reason[:500])
        holder = case.holder_id
        if holder is not None:
            await self.repo.release(holder, case.holder_cost)
            await self.repo.update_case(case.case_id, holder_id=None, holder_cost=0, holder_since=None)
        return holder

    async def _close(self, case: CaseRow, reason: str) -> None:
        freed = await self._let_go(case, reason)
        await self.repo.cancel_timers(case.case_id)
        await self.repo.update_case(case.case_id, state="closed", queued_at=None)
        await self._decision(
            case.case_id,
            "released",
            f"{reason}: "
            + (f"freed {case.holder_cost} capacity units of agent {freed}." if freed else "nothing held."),
            agent_id=freed,
        )
        if freed is not None:
            await self.push_to_agent(freed, f"agent freed capacity ({reason})")

    async def _take_assignment(self, case: CaseRow, assignee: uuid.UUID, actor: str, trigger: str) -> None:
        """Someone other than routing assigned the case: respect it and count it on their load."""
        if case.holder_id == assignee and case.state in ("assigned", "manual"):
            await self.repo.update_case(case.case_id, assignee_id=assignee)
            return
        freed = await self._let_go(case, trigger)
        charged = await self.repo.charge(assignee, case.cost)
        await self.repo.cancel_timers(case.case_id)
        await self.repo.update_case(
            case.case_id,
            state="manual",
            assignee_id=assignee,
            queued_at=None,
            holder_id=assignee if charged else None,
            holder_cost=case.cost if charged else 0,
            holder_since=utcnow() if charged else None,
        )
        await self._decision(
            case.case_id,
            "manual",
            f"{trigger}: assigned to {assignee} by {actor}; rules will not move it."
            + ("" if charged else " The assignee is not a routing agent, so no capacity is counted."),
            agent_id=assignee,
            details={"actor": actor},
        )
        if freed is not None and freed != assignee:
            await self.push_to_agent(freed, "agent freed capacity (case reassigned)")

    # -- offers ---------------------------------------------------------------------------

    async def _lock_offer(self, offer_id: uuid.UUID, agent_id: uuid.UUID | None) -> tuple[CaseRow, OfferRow]:
        offer = await self.repo.get_offer(offer_id)
        if offer is None or (agent_id is not None and offer.agent_id != agent_id):
            raise OfferNotFound(f"Offer {offer_id} does not exist.")
        case = await self.repo.get_case(offer.case_id, lock=True)
        offer = await self.repo.get_offer(offer_id, lock=True)
        assert case is not None
        assert offer is not None
        if offer.status != "pending":
            raise OfferNotPending(f"Offer {offer_id} is {offer.status}, not pending.", extra={"status": offer.status})
        return case, offer

    async def accept(self, offer_id: uuid.UUID, *, agent_id: uuid.UUID | None = None) -> OfferRow:
        """Accept a pending offer (``agent_id``: only if it is that agent's)."""
        case, offer = await self._lock_offer(offer_id, agent_id)
        await self._end_offer(offer, "accepted")
        await self.repo.update_case(case.case_id, state="assigned", assignee_id=offer.agent_id)
        await self.repo.cancel_timers(case.case_id)
        await self._stage(
            AssignCase(
                case_id=case.case_id,
                assignee_id=offer.agent_id,
                group_id=offer.group_id,
                reason=f"{COMMAND_ACTOR} offer accepted",
            ),
            case.case_id,
        )
        await self._decision(
            case.case_id,
            "accepted",
            f"agent {offer.agent_id} accepted the offer.",
            agent_id=offer.agent_id,
            group_id=offer.group_id,
            details={"offer_id": str(offer.id)},
        )
        accepted = await self.repo.get_offer(offer.id)
        assert accepted is not None
        return accepted

    async def decline(
        self,
        offer_id: uuid.UUID,
        reason: str,
        *,
        outcome: Literal["declined", "expired", "revoked"] = "declined",
        agent_id: uuid.UUID | None = None,
    ) -> OfferRow:
        """End a pending offer without acceptance and offer the case to the next agent."""
        case, offer = await self._lock_offer(offer_id, agent_id)
        await self._end_offer(offer, outcome, reason[:500])
        await self.repo.release(offer.agent_id, offer.cost)
        values: dict[str, Any] = {"state": "waiting", "holder_id": None, "holder_cost": 0, "holder_since": None}
        await self.repo.update_case(case.case_id, **values)
        await self.repo.cancel_timers(case.case_id, "offer_timeout")
        await self._decision(
            case.case_id,
            outcome,
            f"agent {offer.agent_id} {outcome}: {reason}",
            agent_id=offer.agent_id,
            group_id=offer.group_id,
            details={"offer_id": str(offer.id)},
        )
        case = dataclasses.replace(case, **values)
        queue = await self.repo.queue(offer.group_id)
        if queue is not None:
            await self._dispatch(case, queue, f"offer {outcome}")
        if outcome == "declined":
            await self.push_to_agent(offer.agent_id, "agent declined and has free capacity")
        ended = await self.repo.get_offer(offer.id)
        assert ended is not None
        return ended

    # -- agents -----------------------------------------------------------------------

    async def push_to_agent(self, agent_id: uuid.UUID, trigger: str) -> int:
        """Offer the agent's queues' oldest highest-priority waiting work that fits them, until full."""
        agent = await self.repo.candidate(agent_id)
        if agent is None or agent.presence is not Presence.ONLINE or agent.free_capacity <= 0:
            return 0
        pushed = 0
        calls = agent.voice is VoiceStatus.AVAILABLE
        for case in await self.repo.waiting_work_for(agent_id, agent.free_capacity, PUSH_SCAN_LIMIT, calls=calls):
            if agent.free_capacity < case.cost:
                continue
            work = WorkItem(
                cost=case.cost,
                required_skills=_required(case),
                language=case.language,
                require_language=case.require_language,
                call=is_call(case.channel),
            )
            if ineligibility(work, agent) is not None:
                continue
            # One row at a time, skipping rows another transaction is routing: concurrent
            # pushes (several agents freeing capacity at once) each take different work.
            locked = await self.repo.lock_waiting(case.case_id)
            if locked is None or locked.group_id is None:
                continue
            queue = await self.repo.queue(locked.group_id)
            if queue is None:
                continue
            if await self._dispatch(locked, queue, trigger):
                pushed += 1
            refreshed = await self.repo.candidate(agent_id)
            if refreshed is None or refreshed.free_capacity <= 0:
                break
            agent = refreshed
        return pushed

    async def lock_cases_offered_to(self, agent_id: uuid.UUID) -> None:
        """Lock the cases of the agent's pending offers before the agent row is written."""
        await self.repo.lock_cases_offered_to(agent_id)

    async def presence_changed(self, agent_id: uuid.UUID, before: Presence, after: Presence) -> None:
        """Going offline hands back unaccepted offers; coming online pulls waiting work."""
        if after is Presence.OFFLINE:
            for offer in await self.repo.pending_offers_of(agent_id):
                try:
                    await self.decline(offer.id, "agent went offline", outcome="revoked")
                except OfferNotPending:
                    continue
        if after is Presence.ONLINE:
            await self.push_to_agent(agent_id, "agent came online")

    # -- timers -------------------------------------------------------------------------

    async def fire_due_timers(self, limit: int) -> int:
        """Handle due offer timeouts and overflows; each in a savepoint so one bad timer
        is retried later instead of holding up the rest."""
        due = await self.repo.claim_due_timers(utcnow(), limit)
        for timer in due:
            try:
                async with self.session.begin_nested():
                    if timer.kind == "offer_timeout" and timer.offer_id is not None:
                        await self._expire_offer(timer.offer_id)
                    elif timer.kind == "overflow":
                        await self._overflow(timer.case_id)
            except Exception:
                logger.exception("timer failed; retrying in 30 s", extra={"timer": str(timer.id)})
                await self.repo.add_timer(timer.kind, timer.case_id, utcnow() + timedelta(seconds=30), timer.offer_id)
        return len(due)

    async def _expire_offer(self, offer_id: uuid.UUID) -> None:
        offer = await self.repo.get_offer(offer_id)
        if offer is None or offer.status != "pending":
            return
        seconds = int((offer.expires_at - offer.created_at).total_seconds()) if offer.expires_at else 0
        try:
            await self.decline(offer_id, f"not accepted within {seconds} s", outcome="expired")
        except (OfferNotPending, OfferNotFound):
            return

    async def _overflow(self, case_id: uuid.UUID) -> None:
        case = await self.repo.get_case(case_id, lock=True)
        if case is None or case.group_id is None:
            return
        if case.state == "offered":
            # An offer is out; look again once it has been answered or lapsed.
            offer = await self.repo.live_offer(case_id)
            due = offer.expires_at if offer and offer.expires_at else utcnow() + timedelta(seconds=5)
            await self.repo.add_timer("overflow", case_id, due)
            return
        if case.state != "waiting":
            return
        queue = await self.repo.queue(case.group_id)
        if queue is None or queue.overflow_group_id is None:
            return
        fallback = await self.repo.queue(queue.overflow_group_id)
        if fallback is None:
            return
        await self._enqueue(
            case,
            fallback,
            rule=None,
            required=_required(case),
            # Speakers of the case's language were asked first; past the limit anyone in the
            # overflow queue may answer (its skills still hold, as before the limit).
            require_language=False,
            trigger=f"overflow: waited over {queue.overflow_after_seconds} s in '{queue.name}'",
        )

    # -- log and commands -------------------------------------------------------------------

    async def _decision(self, case_id: uuid.UUID, kind: str, summary: str, **values: Any) -> None:
        DECISIONS.labels(kind).inc()
        await self.repo.add_decision(case_id, kind, summary, **values)

    async def _stage(self, data: EventData, case_id: uuid.UUID) -> None:
        """Stage a command for case-core or an event of routing's, keyed by the case. Callers
        of a command record the assignee or group it sets in the projection themselves, so
        case-core's echo of it reads as no change."""
        await self.outbox.add(self.session, data, source=SOURCE, subject=str(case_id), key=str(case_id))

    async def _end_offer(self, offer: OfferRow, outcome: OfferOutcome, reason: str | None = None) -> None:
        """Take a pending offer out of ``pending`` and tell it: every path that ends one comes here."""
        ended_at = await self.repo.set_offer_status(offer.id, outcome, reason)
        data = OfferEnded(
            offer_id=offer.id,
            case_id=offer.case_id,
            agent_id=offer.agent_id,
            group_id=offer.group_id,
            outcome=outcome,
            reason=reason,
            ended_at=ended_at,
        )
        await self._stage(data, offer.case_id)

    # -- reading (the API) -----------------------------------------------------------

    async def queues(self, cursor: str | None, limit: int) -> Page[QueueSummary]:
        """Every queue with its waiting work count and longest wait, a page after ``cursor``."""
        groups = await self.repo.queues_page(decode_id_cursor(cursor), limit + 1)
        counts = await self.repo.queue_summaries([group.id for group in groups[:limit]])
        now = utcnow()

        def summary(group: QueueRow) -> QueueSummary:
            waiting, offered, oldest = counts.get(group.id, (0, 0, None))
            return QueueSummary(
                group_id=group.id,
                name=group.name,
                routing_model=group.routing_model.value,
                waiting=waiting,
                offered=offered,
                oldest_queued_at=oldest,
                longest_wait_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
            )

        return paginate(Page[QueueSummary], groups, limit, key=lambda group: [group.id], item=summary)

    async def queue_work(self, group_id: uuid.UUID, cursor: str | None, limit: int) -> Page[QueuedWork]:
        """A queue's waiting and offered work in hand-out order: highest priority first, then longest waiting."""
        if await self.repo.queue(group_id) is None:
            raise GroupNotFound(f"Group {group_id} does not exist.")
        after = decode_cursor(cursor, Int16, datetime, uuid.UUID)
        rows = await self.repo.queue_work(group_id, after=after, limit=limit + 1)
        now = utcnow()

        def work(row: CaseRow) -> QueuedWork:
            return QueuedWork(
                case_id=row.case_id,
                number=row.number,
                subject=row.subject,
                channel=row.channel,
                priority=row.priority,
                state="offered" if row.state == "offered" else "waiting",
                offered_to=row.holder_id if row.state == "offered" else None,
                queued_at=row.queued_at or now,
                wait_seconds=max(0.0, (now - (row.queued_at or now)).total_seconds()),
                cost=row.cost,
                required_skills=row.required_skills,
            )

        return paginate(
            Page[QueuedWork],
            rows,
            limit,
            key=lambda row: [row.priority_rank, row.queued_at or now, row.case_id],
            item=work,
        )

    async def routed_case(self, case_id: uuid.UUID) -> RoutedCase:
        case = await self.repo.get_case(case_id)
        if case is None:
            raise CaseNotKnown(f"Routing has not seen case {case_id}.")
        return RoutedCase.model_validate(case, from_attributes=True)

    async def decisions(self, case_id: uuid.UUID, cursor: str | None, limit: int) -> Page[Decision]:
        """Every routing decision about a case, oldest first."""
        if await self.repo.get_case(case_id) is None:
            raise CaseNotKnown(f"Routing has not seen case {case_id}.")
        key = decode_cursor(cursor, int)
        rows = await self.repo.list_decisions(case_id, after=key[0] if key else None, limit=limit + 1)
        return paginate(Page[Decision], rows, limit, key=lambda row: [row["seq"]], item=Decision.model_validate)

    async def offers(
        self, cursor: str | None, limit: int, *, agent_id: uuid.UUID | None, status: OfferStatus | None
    ) -> Page[Offer]:
        """Offers, oldest first (one agent's, or everyone's)."""
        after = decode_id_cursor(cursor)
        rows = await self.repo.list_offers(agent_id=agent_id, status=status, after=after, limit=limit + 1)
        return paginate(Page[Offer], rows, limit, key=lambda row: [row.id], item=offer_of)
