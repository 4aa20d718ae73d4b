"""Routing a batch of ``case.events`` set-based.

The common case is decided in memory and written with a constant number of
statements per batch, whatever its size:

- the projection rows of the batch's cases are locked in one statement (case id
  order); events older than the projection are dropped, and an event that changes
  nothing routing reads writes nothing;
- a case seen for the first time (neither closed nor already assigned) is matched
  against the cached rules and queued; the members of every queue the batch needs
  are loaded with their load in two statements, their agent rows locked in user id
  order, so the ranking and the capacity bookkeeping happen in memory and no other
  replica can take the same units meanwhile;
- cases, offers, agents' loads, round-robin marks, timers, decisions and what goes to the
  outbox (commands, and ``offer.created`` for pending offers) are then written with one
  statement each.

Everything else (a case closed, reopened, assigned or moved by a person, or a rule field
changing while it waits) goes, from that event on, through :class:`RoutingService`
one event at a time after the batch's writes, exactly as before. A case's events keep
their order: the in-memory part takes a prefix of them, the per-event part the rest.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.bus.batch import Received
from omnicase.kit.clock import utcnow
from omnicase.kit.events import AssignCase, CaseSnapshot, ChangeCase, Envelope, EventData
from omnicase.kit.ids import uuid7
from omnicase.kit.outbox import Outbox
from omnicase.routing.engine import Candidate, RoutingModel, WorkItem, match_rules, select_agents
from omnicase.routing.metrics import DECISION_SECONDS, DECISIONS
from omnicase.routing.settings import RoutingSettings
from omnicase.routing.work.repository import CaseRow, OfferRow, QueueRow, RoutingConfig, WorkRepository
from omnicase.routing.work.service import (
    CLOSED_STATUSES,
    COMMAND_ACTOR,
    RULE_FIELDS,
    SOURCE,
    RoutingService,
    assigned_reason,
    case_facts,
    dispatch_details,
    handed_out_summary,
    is_call,
    offer_created,
    queued_decision,
    rule_log,
    snapshot_values,
    unrouted_summary,
    waiting_summary,
)

# What a snapshot sets besides the version: when none of it differs, nothing is written.
_READ_COLUMNS = (
    "number",
    "subject",
    "status",
    "priority",
    "priority_rank",
    "channel",
    "type",
    "brand",
    "tags",
    "custom_fields",
    "organization_id",
    "language",
    "cost",
)
NEW_CASE = "new case"


@dataclass(frozen=True, slots=True)
class CaseEvent:
    """One consumed event that carries a case snapshot, as routing reads it."""

    received: Received[EventData]
    snapshot: CaseSnapshot
    actor: str
    changed: frozenset[str] = frozenset()
    description: str | None = None
    created: bool = False


def needs_service(case: CaseRow, event: CaseEvent) -> bool:
    """Whether ``event`` asks more of routing than bringing ``case``'s facts up to date
    (the same questions :meth:`RoutingService.apply_snapshot` asks of a known case)."""
    snapshot = event.snapshot
    if snapshot.status in CLOSED_STATUSES:
        return case.state != "closed"
    if case.state == "closed":
        return True
    if event.actor.startswith(COMMAND_ACTOR):
        return False
    if "assignee_id" in event.changed and snapshot.assignee_id != case.assignee_id:
        return True
    if "group_id" in event.changed and snapshot.group_id != case.group_id:
        return True
    return bool(event.changed & RULE_FIELDS) and case.state in ("unrouted", "waiting")


@dataclass
class _Pools:
    """The batch's queues' members as the decisions see them, load included; an
    assignment updates the agent in every queue they belong to."""

    by_queue: dict[uuid.UUID, list[Candidate]]
    places: dict[uuid.UUID, list[tuple[uuid.UUID, int]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for queue_id, members in self.by_queue.items():
            for index, member in enumerate(members):
                self.places.setdefault(member.agent_id, []).append((queue_id, index))

    def take(self, queue_id: uuid.UUID, agent_id: uuid.UUID, cost: int, at: datetime, model: RoutingModel) -> None:
        for member_of, index in self.places[agent_id]:
            members = self.by_queue[member_of]
            member = members[index]
            members[index] = dataclasses.replace(
                member,
                used_capacity=member.used_capacity + cost,
                active_cases=member.active_cases + 1,
                last_assigned_at=at,
                queue_last_offered_at=at
                if member_of == queue_id and model is RoutingModel.ROUND_ROBIN
                else member.queue_last_offered_at,
            )


@dataclass
class _NewCase:
    """What the batch decided for a case it saw first: the row to insert and what goes with it."""

    events: list[CaseEvent]
    row: dict[str, Any]
    decisions: list[dict[str, Any]] = field(default_factory=list)
    # Commands for case-core and routing's own events, staged in the outbox in this order.
    outgoing: list[EventData] = field(default_factory=list)
    offer: dict[str, Any] | None = None
    timers: list[dict[str, Any]] = field(default_factory=list)
    taken: tuple[uuid.UUID, int, datetime] | None = None
    round_robin: tuple[uuid.UUID, uuid.UUID, datetime] | None = None
    later: list[CaseEvent] = field(default_factory=list)

    @property
    def case_id(self) -> uuid.UUID:
        case_id: uuid.UUID = self.row["case_id"]
        return case_id


class BatchRouting:
    """Applies a batch of case events in the caller's transaction (flushes, never commits)."""

    def __init__(self, session: AsyncSession, outbox: Outbox, settings: RoutingSettings) -> None:
        self.session = session
        self.repo = WorkRepository(session)
        self.outbox = outbox
        self.settings = settings

    async def apply(self, events: Sequence[CaseEvent]) -> None:
        by_case: dict[uuid.UUID, list[CaseEvent]] = {}
        for event in events:
            by_case.setdefault(event.snapshot.case_id, []).append(event)
        known = await self.repo.lock_cases(sorted(by_case))
        one_by_one: list[CaseEvent] = []
        refreshed: list[dict[str, Any]] = []
        first_seen: list[list[CaseEvent]] = []
        for case_id, case_events in by_case.items():
            row = known.get(case_id)
            if row is None:
                snapshot = case_events[0].snapshot
                if snapshot.status in CLOSED_STATUSES or snapshot.assignee_id is not None:
                    one_by_one.extend(case_events)
                else:
                    first_seen.append(case_events)
                continue
            folded, rest = self._fold(row, case_events)
            if any(getattr(folded, name) != getattr(row, name) for name in _READ_COLUMNS):
                refreshed.append(
                    {
                        "case_id": case_id,
                        **{name: getattr(folded, name) for name in (*_READ_COLUMNS, "version")},
                        "updated_at": utcnow(),
                    }
                )
            one_by_one.extend(rest)
        if first_seen:
            one_by_one.extend(await self._route_first_seen(first_seen))
        await self.repo.update_cases(refreshed)
        if one_by_one:
            # In the batch's order (each case's events keep theirs).
            position = {id(event): index for index, event in enumerate(events)}
            one_by_one.sort(key=lambda event: position[id(event)])
            service = RoutingService(self.session, self.outbox, self.settings)
            for event in one_by_one:
                with event.received.traced():
                    await service.apply_snapshot(
                        event.snapshot,
                        actor=event.actor,
                        changed=event.changed,
                        description=event.description,
                        created=event.created,
                    )

    def _fold(self, case: CaseRow, events: Sequence[CaseEvent]) -> tuple[CaseRow, list[CaseEvent]]:
        """``case`` with the facts of the events that ask nothing more of routing, up to
        the first one that does; that event and the ones after it are returned."""
        for index, event in enumerate(events):
            if event.snapshot.version <= case.version:
                continue  # an older or already applied view of the case
            if needs_service(case, event):
                return case, list(events[index:])
            case = dataclasses.replace(case, **snapshot_values(event.snapshot, self.settings))
        return case, []

    async def _route_first_seen(self, first_seen: Sequence[list[CaseEvent]]) -> list[CaseEvent]:
        """Queue and hand out the cases the batch sees first; the events left for the
        per-event path (a later event of such a case that needs it, or a case another
        replica inserted meanwhile)."""
        config = await self.repo.routing_config()
        now = utcnow()
        planned: list[tuple[_NewCase, QueueRow | None]] = []
        for case_events in first_seen:
            planned.append(self._queue(case_events, config, now))
        pools = _Pools(
            await self.repo.lock_queue_candidates(sorted({queue.id for _, queue in planned if queue is not None}))
        )
        for new, queue in planned:
            if queue is not None:
                self._hand_out(new, queue, pools, config)
            case = CaseRow(**new.row)
            folded, rest = self._fold(case, new.events[1:])
            new.row.update({name: getattr(folded, name) for name in (*_READ_COLUMNS, "version")})
            new.later = rest

        news = [new for new, _ in planned]
        inserted = await self.repo.insert_cases([new.row for new in news])
        left: list[CaseEvent] = []
        kept: list[_NewCase] = []
        for new in news:
            if new.case_id in inserted:
                kept.append(new)
                left.extend(new.later)
            else:
                # Another replica got there first (around a rebalance): the per-event
                # path takes the row's lock and treats the case as known.
                left.extend(new.events)
        await self._write(kept)
        return left

    def _queue(self, events: list[CaseEvent], config: RoutingConfig, now: datetime) -> tuple[_NewCase, QueueRow | None]:
        """Match the rules and queue the case, as :meth:`RoutingService._route` does for a new one."""
        first = events[0]
        snapshot = first.snapshot
        row: dict[str, Any] = {
            **snapshot_values(snapshot, self.settings),
            "case_id": snapshot.case_id,
            "description": first.description or "",
            "group_id": snapshot.group_id,
            "assignee_id": None,
            "state": "unrouted",
            "rule_id": None,
            "required_skills": {},
            "require_language": False,
            "queued_at": None,
            "group_entered_at": None,
            "holder_id": None,
            "holder_cost": 0,
            "holder_since": None,
            "updated_at": now,
        }
        new = _NewCase(events=events, row=row)
        with DECISION_SECONDS.labels("rules").time():
            match = match_rules(config.rules, case_facts(CaseRow(**row)))
        rules = rule_log(match)
        rule = match.rule
        queue_id = rule.target_group_id if rule else snapshot.group_id
        queue = config.queues.get(queue_id) if queue_id else None
        if queue is None:
            self._decide(new, "unrouted", unrouted_summary(NEW_CASE), details={"rules": rules})
            return new, None
        required = dict(rule.required_skills) if rule else {}
        require_language = rule.require_language if rule else False
        row.update(
            group_id=queue.id,
            rule_id=rule.rule_id if rule else None,
            required_skills={str(skill_id): level for skill_id, level in required.items()},
            require_language=require_language,
            state="waiting",
            queued_at=now,
            group_entered_at=now,
        )
        if queue.overflow_after_seconds is not None and queue.overflow_group_id is not None:
            due = now + timedelta(seconds=queue.overflow_after_seconds)
            new.timers.append(
                {"id": uuid7(), "kind": "overflow", "case_id": snapshot.case_id, "offer_id": None, "due_at": due}
            )
        summary, details = queued_decision(
            NEW_CASE,
            queue,
            rule=rule,
            rules=rules,
            required=required,
            names=config.skill_names,
            require_language=require_language,
            cost=row["cost"],
        )
        self._decide(new, "queued", summary, rule_id=rule.rule_id if rule else None, group_id=queue.id, details=details)
        return new, queue

    def _hand_out(self, new: _NewCase, queue: QueueRow, pools: _Pools, config: RoutingConfig) -> None:
        """Offer (or assign) the queued case to the best agent of its queue, as
        :meth:`RoutingService._dispatch` does, against the batch's in-memory loads."""
        row = new.row
        case_id: uuid.UUID = row["case_id"]
        required = {uuid.UUID(skill_id): level for skill_id, level in row["required_skills"].items()}
        work = WorkItem(
            cost=row["cost"],
            required_skills=required,
            language=row["language"],
            require_language=row["require_language"],
            call=is_call(row["channel"]),
        )
        candidates = pools.by_queue.get(queue.id, [])
        with DECISION_SECONDS.labels("agents").time():
            selection = select_agents(work, candidates, queue.routing_model, config.skill_names)
        # The agents are locked and their loads current: the best one has the room.
        chosen = selection.best
        details = dispatch_details(
            queue,
            len(candidates),
            selection,
            chosen.agent_id if chosen else None,
            (),
            self.settings.decision_candidates_kept,
        )
        moved = queue.id != new.events[0].snapshot.group_id
        if chosen is None:
            self._decide(
                new, "waiting", waiting_summary(NEW_CASE, queue, len(candidates)), group_id=queue.id, details=details
            )
            if moved:
                new.outgoing.append(
                    ChangeCase(case_id=case_id, group_id=queue.id, reason=f"{COMMAND_ACTOR} {NEW_CASE}")
                )
            return
        now = utcnow()
        pools.take(queue.id, chosen.agent_id, row["cost"], now, queue.routing_model)
        new.taken = (chosen.agent_id, row["cost"], now)
        if queue.routing_model is RoutingModel.ROUND_ROBIN:
            new.round_robin = (queue.id, chosen.agent_id, now)
        row.update(holder_id=chosen.agent_id, holder_cost=row["cost"], holder_since=now)
        offer_id = uuid7()
        offer = {
            "id": offer_id,
            "case_id": case_id,
            "agent_id": chosen.agent_id,
            "group_id": queue.id,
            "cost": row["cost"],
            "created_at": now,
            "decline_reason": None,
        }
        if queue.offer_timeout_seconds is None:
            kind = "assigned"
            new.offer = {**offer, "status": "accepted", "expires_at": None, "decided_at": now}
            row.update(state="assigned", assignee_id=chosen.agent_id)
            # One command: case-core applies the group and the assignee from it.
            new.outgoing.append(
                AssignCase(
                    case_id=case_id, assignee_id=chosen.agent_id, group_id=queue.id, reason=assigned_reason(queue)
                )
            )
        else:
            kind = "offered"
            expires = now + timedelta(seconds=queue.offer_timeout_seconds)
            new.offer = {**offer, "status": "pending", "expires_at": expires, "decided_at": None}
            new.outgoing.append(offer_created(OfferRow(**new.offer)))
            row.update(state="offered")
            new.timers.append(
                {"id": uuid7(), "kind": "offer_timeout", "case_id": case_id, "offer_id": offer_id, "due_at": expires}
            )
            details["offer_id"] = str(offer_id)
            if moved:
                new.outgoing.append(
                    ChangeCase(case_id=case_id, group_id=queue.id, reason=f"{COMMAND_ACTOR} {NEW_CASE}")
                )
        self._decide(
            new,
            kind,
            handed_out_summary(NEW_CASE, kind, chosen.agent_id, queue, len(selection.ranked)),
            rule_id=row["rule_id"],
            group_id=queue.id,
            agent_id=chosen.agent_id,
            details=details,
        )

    @staticmethod
    def _decide(new: _NewCase, kind: str, summary: str, **values: Any) -> None:
        new.decisions.append(
            {
                "case_id": new.row["case_id"],
                "at": utcnow(),
                "kind": kind,
                "summary": summary,
                "rule_id": values.get("rule_id"),
                "group_id": values.get("group_id"),
                "agent_id": values.get("agent_id"),
                "details": values.get("details") or {},
            }
        )

    async def _write(self, news: Sequence[_NewCase]) -> None:
        """Everything the kept decisions hold besides the case rows, one statement per table."""
        loads: dict[uuid.UUID, tuple[int, int, datetime]] = {}
        for new in news:
            if new.taken is not None:
                agent_id, cost, at = new.taken
                units, count, last = loads.get(agent_id, (0, 0, at))
                loads[agent_id] = (units + cost, count + 1, max(last, at))
        await self.repo.add_loads(sorted((agent_id, *load) for agent_id, load in loads.items()))
        offered: dict[tuple[uuid.UUID, uuid.UUID], datetime] = {}
        for new in news:
            if new.round_robin is not None:
                queue_id, agent_id, at = new.round_robin
                offered[queue_id, agent_id] = max(at, offered.get((queue_id, agent_id), at))
        await self.repo.mark_offered_in_queues(sorted((*pair, at) for pair, at in offered.items()))
        await self.repo.add_offers([new.offer for new in news if new.offer is not None])
        await self.repo.add_timers([timer for new in news for timer in new.timers])
        decisions = [decision for new in news for decision in new.decisions]
        await self.repo.add_decisions(decisions)
        for decision in decisions:
            DECISIONS.labels(decision["kind"]).inc()
        outgoing: list[tuple[str, Envelope, str]] = []
        for new in news:
            # Commands and events carry the trace of the event that caused them.
            with new.events[0].received.traced():
                for data in new.outgoing:
                    key = str(new.case_id)
                    outgoing.append((data.topic.value, data.envelope(source=SOURCE, subject=key), key))
        await self.outbox.add_envelopes(self.session, outgoing)
