"""Every query of routing's work: the case projection, candidates, capacity, offers,
decisions and timers."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Uuid, and_, case, cast, delete, exists, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.clock import utcnow
from omnicase.kit.config_version import VersionedCache
from omnicase.kit.db import UnnestedRows, any_of, insert_rows, update_rows
from omnicase.kit.events import Channel
from omnicase.kit.ids import uuid7
from omnicase.kit.repository import Repository
from omnicase.routing.engine import Candidate, Presence, RoutingModel, RuleConditions, RuleSpec, VoiceStatus
from omnicase.routing.models import (
    agent_skills,
    agents,
    cases,
    config_version,
    decisions,
    group_members,
    groups,
    offers,
    rule_skills,
    rules,
    skills,
    timers,
)

LIVE_OFFER = ("pending", "accepted")
PASSED_OFFER = ("declined", "expired")

_QUEUE_COLUMNS = (
    groups.c.id,
    groups.c.name,
    groups.c.routing_model,
    groups.c.offer_timeout_seconds,
    groups.c.overflow_after_seconds,
    groups.c.overflow_group_id,
)


@dataclass
class CaseRow:
    case_id: uuid.UUID
    number: int
    version: int
    subject: str
    description: str
    status: str
    priority: str
    priority_rank: int
    channel: str
    type: str | None
    brand: str | None
    tags: list[str]
    custom_fields: dict[str, Any]
    organization_id: uuid.UUID | None
    language: str | None
    assignee_id: uuid.UUID | None
    group_id: uuid.UUID | None
    state: str
    rule_id: uuid.UUID | None
    required_skills: dict[str, int]
    require_language: bool
    cost: int
    queued_at: datetime | None
    group_entered_at: datetime | None
    holder_id: uuid.UUID | None
    holder_cost: int
    holder_since: datetime | None
    updated_at: datetime


@dataclass(frozen=True)
class QueueRow:
    id: uuid.UUID
    name: str
    routing_model: RoutingModel
    offer_timeout_seconds: int | None
    overflow_after_seconds: int | None
    overflow_group_id: uuid.UUID | None


@dataclass(frozen=True)
class RoutingConfig:
    """Rules (enabled, in order), queues and skill names as of one ``config_version``."""

    version: int
    rules: tuple[RuleSpec, ...]
    queues: Mapping[uuid.UUID, QueueRow]
    skill_names: Mapping[uuid.UUID, str]


async def _load_routing_config(session: AsyncSession, version: int) -> RoutingConfig:
    return await WorkRepository(session).load_routing_config(version)


# The process's parsed configuration: shared by every session, replaced (never mutated)
# when ``routing.config_version`` moves on.
_CONFIG: VersionedCache[RoutingConfig] = VersionedCache(config_version, _load_routing_config)


@dataclass(frozen=True)
class OfferRow:
    id: uuid.UUID
    case_id: uuid.UUID
    agent_id: uuid.UUID
    group_id: uuid.UUID
    status: str
    cost: int
    created_at: datetime
    expires_at: datetime | None
    decided_at: datetime | None
    decline_reason: str | None


@dataclass(frozen=True)
class TimerRow:
    id: uuid.UUID
    kind: str
    case_id: uuid.UUID
    offer_id: uuid.UUID | None
    due_at: datetime


# An agent's load as both reads of candidates select it (the queue's members, or every member of
# several queues under lock).
_LOAD = (
    agents.c.user_id,
    agents.c.presence,
    agents.c.capacity,
    agents.c.used_capacity,
    agents.c.active_cases,
    agents.c.languages,
    agents.c.last_assigned_at,
    agents.c.voice_status,
)


def _candidate(load: Any, member: Any) -> Candidate:
    """An agent as a queue sees it: its ``load`` (the :data:`_LOAD` columns) and its ``member``ship
    of the queue (``skill_ids`` and ``levels`` in skill order, ``last_offered_at``)."""
    return Candidate(
        agent_id=load.user_id,
        presence=Presence(load.presence),
        capacity=load.capacity,
        used_capacity=load.used_capacity,
        active_cases=load.active_cases,
        skills=dict(zip(member.skill_ids or (), member.levels or (), strict=True)),
        languages=frozenset(language.casefold() for language in load.languages),
        last_assigned_at=load.last_assigned_at,
        queue_last_offered_at=member.last_offered_at,
        voice=VoiceStatus(load.voice_status),
    )


class WorkRepository(Repository):
    # -- case projection -------------------------------------------------------------

    async def get_case(self, case_id: uuid.UUID, *, lock: bool = False) -> CaseRow | None:
        statement = select(cases).where(cases.c.case_id == case_id)
        if lock:
            statement = statement.with_for_update()
        row = (await self.session.execute(statement)).mappings().first()
        return CaseRow(**row) if row else None

    async def insert_case(self, values: dict[str, Any]) -> CaseRow | None:
        """Insert the case unless it exists; the new row when this call created it."""
        # ON CONFLICT: two replicas may see the first event of a case around a
        # rebalance; the loser then takes the row lock and treats it as an update.
        result = await self.session.execute(
            pg_insert(cases).values(**values).on_conflict_do_nothing().returning(*cases.c)
        )
        row = result.mappings().first()
        return CaseRow(**row) if row else None

    async def lock_cases(self, case_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, CaseRow]:
        """The projection rows of these cases that exist, locked in case id order (one
        statement, a stable order: concurrent batches wait instead of deadlocking)."""
        if not case_ids:
            return {}
        statement = select(cases).where(any_of(cases.c.case_id, case_ids)).order_by(cases.c.case_id).with_for_update()
        return {row["case_id"]: CaseRow(**row) for row in (await self.session.execute(statement)).mappings()}

    async def insert_cases(self, rows: Sequence[Mapping[str, Any]]) -> set[uuid.UUID]:
        """Insert the cases none of which may exist yet, in one statement; the ids inserted
        (a case another replica inserted meanwhile is left out)."""
        if not rows:
            return set()
        # Unnested, here and below: one statement text and one execution for any batch size
        # (a multi-row VALUES is a new text per size, an executemany one execution per row).
        unnested = UnnestedRows.of(cases, tuple(rows[0]))
        statement = unnested.insert.on_conflict_do_nothing().returning(cases.c.case_id)
        result = await self.session.execute(statement, unnested.parameters(rows))
        return set(result.scalars())

    async def update_cases(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Set each row's columns on its case (``case_id`` says which, each case once), in one
        statement executed once; every row names the same columns."""
        if rows:
            await self.session.execute(*update_rows(cases, ("case_id",), rows))

    async def update_case(self, case_id: uuid.UUID, **values: Any) -> None:
        values.setdefault("updated_at", utcnow())
        await self.session.execute(update(cases).where(cases.c.case_id == case_id).values(**values))

    async def agents_with_room(self, limit: int) -> list[uuid.UUID]:
        """Online agents with enough free capacity for some case waiting in one of their queues."""
        statement = (
            select(agents.c.user_id)
            .join(group_members, group_members.c.agent_id == agents.c.user_id)
            .join(cases, and_(cases.c.group_id == group_members.c.group_id, cases.c.state == "waiting"))
            .where(
                agents.c.presence == Presence.ONLINE.value,
                cases.c.cost <= agents.c.capacity - agents.c.used_capacity,
                or_(cases.c.channel != Channel.VOICE.value, agents.c.voice_status == VoiceStatus.AVAILABLE.value),
            )
            .group_by(agents.c.user_id, agents.c.last_assigned_at)
            .order_by(agents.c.last_assigned_at.nulls_first())
            .limit(limit)
        )
        return list((await self.session.execute(statement)).scalars())

    async def waiting_work_for(
        self, agent_id: uuid.UUID, free_capacity: int, limit: int, *, calls: bool
    ) -> list[CaseRow]:
        """Waiting work of the agent's queues that fits them (capacity, every required skill
        at its level, not passed on before; calls only if ``calls``: they are available for calls),
        highest priority then longest waiting first.

        Read without locks; :meth:`lock_waiting` takes each row before it is routed.
        Language is left to the caller.
        """
        member_groups = select(group_members.c.group_id).where(group_members.c.agent_id == agent_id)
        required = func.jsonb_each_text(cases.c.required_skills).table_valued("key", "value").alias("required")
        unmet_skill = (
            select(required.c.key)
            .where(
                ~exists().where(
                    agent_skills.c.agent_id == agent_id,
                    agent_skills.c.skill_id == cast(required.c.key, Uuid),
                    agent_skills.c.level >= cast(required.c.value, Integer),
                )
            )
            .exists()
        )
        passed = exists().where(
            offers.c.case_id == cases.c.case_id,
            offers.c.group_id == cases.c.group_id,
            offers.c.agent_id == agent_id,
            offers.c.status.in_(PASSED_OFFER),
        )
        statement = (
            select(cases)
            .where(
                cases.c.state == "waiting",
                cases.c.group_id.in_(member_groups),
                cases.c.cost <= free_capacity,
                ~unmet_skill,
                ~passed,
                *(() if calls else (cases.c.channel != Channel.VOICE.value,)),
            )
            .order_by(cases.c.priority_rank.desc(), cases.c.queued_at, cases.c.case_id)
            .limit(limit)
        )
        return [CaseRow(**row) for row in (await self.session.execute(statement)).mappings()]

    async def lock_waiting(self, case_id: uuid.UUID) -> CaseRow | None:
        """The case, locked, if it still waits and no other transaction holds it."""
        statement = (
            select(cases)
            .where(cases.c.case_id == case_id, cases.c.state == "waiting")
            .with_for_update(skip_locked=True)
        )
        row = (await self.session.execute(statement)).mappings().first()
        return CaseRow(**row) if row else None

    # -- rules and queues -----------------------------------------------------------

    async def routing_config(self) -> RoutingConfig:
        """Rules, queues and skill names, loaded and parsed once per ``config_version``.

        Reading the version is one primary-key read; every write to rules, rule skills,
        groups or skills moves it (statement triggers), in whichever process made it.
        """
        return await _CONFIG.current(self.session)

    async def load_routing_config(self, version: int) -> RoutingConfig:
        queue_rows = (await self.session.execute(select(*_QUEUE_COLUMNS))).mappings()
        queues = {
            row["id"]: QueueRow(**{**row, "routing_model": RoutingModel(row["routing_model"])}) for row in queue_rows
        }
        names = {row.id: row.name for row in await self.session.execute(select(skills.c.id, skills.c.name))}
        return RoutingConfig(
            version=version,
            rules=tuple(await self._load_enabled_rules()),
            queues=queues,
            skill_names=names,
        )

    async def enabled_rules(self) -> list[RuleSpec]:
        """The enabled rules in evaluation order (from the cached configuration)."""
        return list((await self.routing_config()).rules)

    async def _load_enabled_rules(self) -> list[RuleSpec]:
        rule_rows = (
            await self.session.execute(
                select(rules).where(rules.c.enabled.is_(True)).order_by(rules.c.position, rules.c.id)
            )
        ).mappings()
        specs = list(rule_rows)
        if not specs:
            return []
        skill_rows = await self.session.execute(
            select(rule_skills).where(rule_skills.c.rule_id.in_([row["id"] for row in specs]))
        )
        required: dict[uuid.UUID, dict[uuid.UUID, int]] = {}
        for skill_row in skill_rows.mappings():
            required.setdefault(skill_row["rule_id"], {})[skill_row["skill_id"]] = skill_row["min_level"]
        return [
            RuleSpec(
                rule_id=row["id"],
                name=row["name"],
                conditions=RuleConditions.model_validate(row["conditions"]),
                target_group_id=row["target_group_id"],
                required_skills=required.get(row["id"], {}),
                require_language=row["require_language"],
            )
            for row in specs
        ]

    async def queue(self, group_id: uuid.UUID) -> QueueRow | None:
        row = (await self.session.execute(select(*_QUEUE_COLUMNS).where(groups.c.id == group_id))).mappings().first()
        if row is None:
            return None
        return QueueRow(**{**row, "routing_model": RoutingModel(row["routing_model"])})

    async def queues_page(self, after: uuid.UUID | None, limit: int) -> list[QueueRow]:
        statement = select(*_QUEUE_COLUMNS).order_by(groups.c.id).limit(limit)
        if after is not None:
            statement = statement.where(groups.c.id > after)
        return [
            QueueRow(**{**row, "routing_model": RoutingModel(row["routing_model"])})
            for row in (await self.session.execute(statement)).mappings()
        ]

    async def skill_names(self, skill_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
        if not skill_ids:
            return {}
        rows = await self.session.execute(select(skills.c.id, skills.c.name).where(skills.c.id.in_(skill_ids)))
        return {row.id: row.name for row in rows}

    # -- candidates and capacity ----------------------------------------------------

    async def candidates(self, group_id: uuid.UUID) -> list[Candidate]:
        """Every member of the queue with their skills, in one indexed query."""
        held = agent_skills.alias("held")
        skill_ids = (
            select(func.array_agg(aggregate_order_by(held.c.skill_id, held.c.skill_id)))
            .where(held.c.agent_id == agents.c.user_id)
            .scalar_subquery()
        )
        levels = (
            select(func.array_agg(aggregate_order_by(held.c.level, held.c.skill_id)))
            .where(held.c.agent_id == agents.c.user_id)
            .scalar_subquery()
        )
        rows = await self.session.execute(
            select(
                *_LOAD,
                group_members.c.last_offered_at,
                skill_ids.label("skill_ids"),
                levels.label("levels"),
            )
            .join(group_members, group_members.c.agent_id == agents.c.user_id)
            .where(group_members.c.group_id == group_id)
        )
        return [_candidate(row, row) for row in rows]

    async def lock_queue_candidates(self, group_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Candidate]]:
        """Every member of these queues with skills and current load, per queue, in two
        statements; the members' agent rows stay locked (taken in user id order, in one
        statement) until the transaction ends, so the load read is the load to write on."""
        if not group_ids:
            return {}
        members = select(group_members.c.agent_id).where(group_members.c.group_id.in_(group_ids))
        locked = await self.session.execute(
            select(*_LOAD).where(agents.c.user_id.in_(members)).order_by(agents.c.user_id).with_for_update()
        )
        loads = {row.user_id: row for row in locked}
        held = (
            select(
                group_members.c.group_id,
                group_members.c.agent_id,
                group_members.c.last_offered_at,
                func.array_agg(aggregate_order_by(agent_skills.c.skill_id, agent_skills.c.skill_id))
                .filter(agent_skills.c.skill_id.is_not(None))
                .label("skill_ids"),
                func.array_agg(aggregate_order_by(agent_skills.c.level, agent_skills.c.skill_id))
                .filter(agent_skills.c.skill_id.is_not(None))
                .label("levels"),
            )
            .select_from(group_members.outerjoin(agent_skills, agent_skills.c.agent_id == group_members.c.agent_id))
            .where(group_members.c.group_id.in_(group_ids))
            .group_by(group_members.c.group_id, group_members.c.agent_id, group_members.c.last_offered_at)
            .order_by(group_members.c.group_id, group_members.c.agent_id)
        )
        pools: dict[uuid.UUID, list[Candidate]] = {group_id: [] for group_id in group_ids}
        for member in await self.session.execute(held):
            load = loads.get(member.agent_id)
            if load is None:
                continue
            pools[member.group_id].append(_candidate(load, member))
        return pools

    async def add_loads(self, loads: Sequence[tuple[uuid.UUID, int, int, datetime]]) -> None:
        """Add ``(agent, capacity units, cases, assigned at)`` to each agent's load, in one
        statement. Callers hold the agents' locks and checked the room themselves."""
        if not loads:
            return
        # Increments (used_capacity = used_capacity + batch's), each agent once: the rows are
        # locked, so what another transaction added before stays counted.
        rows = [
            {"user_id": agent_id, "used_capacity": cost, "active_cases": count, "last_assigned_at": at}
            for agent_id, cost, count, at in loads
        ]
        await self.session.execute(*update_rows(agents, ("user_id",), rows, add=("used_capacity", "active_cases")))

    async def mark_offered_in_queues(self, marks: Sequence[tuple[uuid.UUID, uuid.UUID, datetime]]) -> None:
        """Round-robin rotation: ``(queue, agent, offered at)`` rows, in one statement."""
        if not marks:
            return
        rows = [{"group_id": group, "agent_id": agent, "last_offered_at": at} for group, agent, at in marks]
        await self.session.execute(*update_rows(group_members, ("group_id", "agent_id"), rows))

    async def candidate(self, agent_id: uuid.UUID) -> Candidate | None:
        row = (await self.session.execute(select(agents).where(agents.c.user_id == agent_id))).mappings().first()
        if row is None:
            return None
        skill_rows = await self.session.execute(
            select(agent_skills.c.skill_id, agent_skills.c.level).where(agent_skills.c.agent_id == agent_id)
        )
        return Candidate(
            agent_id=agent_id,
            presence=Presence(row["presence"]),
            capacity=row["capacity"],
            used_capacity=row["used_capacity"],
            active_cases=row["active_cases"],
            skills={row.skill_id: row.level for row in skill_rows},
            languages=frozenset(language.casefold() for language in row["languages"]),
            last_assigned_at=row["last_assigned_at"],
            voice=VoiceStatus(row["voice_status"]),
        )

    async def reserve(self, agent_id: uuid.UUID, cost: int, *, call: bool = False) -> bool:
        """Take ``cost`` units of the agent's capacity if they are online and have them free (and,
        for a ``call``'s case, are available for calls).

        One conditional UPDATE: the row lock it takes makes a concurrent reservation
        wait, then re-check the condition against the committed row, so two replicas
        can never both take an agent's last unit.
        """
        now = utcnow()
        result = await self.session.execute(
            update(agents)
            .where(
                agents.c.user_id == agent_id,
                agents.c.presence == Presence.ONLINE.value,
                agents.c.used_capacity + cost <= agents.c.capacity,
                *((agents.c.voice_status == VoiceStatus.AVAILABLE.value,) if call else ()),
            )
            .values(
                used_capacity=agents.c.used_capacity + cost,
                active_cases=agents.c.active_cases + 1,
                last_assigned_at=now,
            )
            .returning(agents.c.user_id)
        )
        return result.first() is not None

    async def charge(self, agent_id: uuid.UUID, cost: int) -> bool:
        """Count work someone else assigned on the agent's load, whatever their capacity."""
        result = await self.session.execute(
            update(agents)
            .where(agents.c.user_id == agent_id)
            .values(used_capacity=agents.c.used_capacity + cost, active_cases=agents.c.active_cases + 1)
            .returning(agents.c.user_id)
        )
        return result.first() is not None

    async def release(self, agent_id: uuid.UUID, cost: int) -> None:
        await self.session.execute(
            update(agents)
            .where(agents.c.user_id == agent_id)
            .values(
                used_capacity=func.greatest(agents.c.used_capacity - cost, 0),
                active_cases=func.greatest(agents.c.active_cases - 1, 0),
            )
        )

    async def mark_offered_in_queue(self, group_id: uuid.UUID, agent_id: uuid.UUID) -> None:
        await self.session.execute(
            update(group_members)
            .where(group_members.c.group_id == group_id, group_members.c.agent_id == agent_id)
            .values(last_offered_at=utcnow())
        )

    # -- offers -----------------------------------------------------------------------

    async def add_offer(
        self,
        *,
        case_id: uuid.UUID,
        agent_id: uuid.UUID,
        group_id: uuid.UUID,
        status: str,
        cost: int,
        expires_at: datetime | None,
    ) -> OfferRow:
        now = utcnow()
        result = await self.session.execute(
            insert(offers)
            .values(
                id=uuid7(),
                case_id=case_id,
                agent_id=agent_id,
                group_id=group_id,
                status=status,
                cost=cost,
                created_at=now,
                expires_at=expires_at,
                decided_at=now if status == "accepted" else None,
            )
            .returning(*offers.c)
        )
        return OfferRow(**result.mappings().one())

    async def add_offers(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert offers (every column given, ids included) in one statement."""
        if rows:
            await self.session.execute(*insert_rows(offers, rows))

    async def get_offer(self, offer_id: uuid.UUID, *, lock: bool = False) -> OfferRow | None:
        statement = select(offers).where(offers.c.id == offer_id)
        if lock:
            statement = statement.with_for_update()
        row = (await self.session.execute(statement)).mappings().first()
        return OfferRow(**row) if row else None

    async def live_offer(self, case_id: uuid.UUID) -> OfferRow | None:
        row = (
            (
                await self.session.execute(
                    select(offers).where(offers.c.case_id == case_id, offers.c.status.in_(LIVE_OFFER))
                )
            )
            .mappings()
            .first()
        )
        return OfferRow(**row) if row else None

    async def pending_offers_of(self, agent_id: uuid.UUID) -> list[OfferRow]:
        statement = (
            select(offers).where(offers.c.agent_id == agent_id, offers.c.status == "pending").order_by(offers.c.id)
        )
        return [OfferRow(**row) for row in (await self.session.execute(statement)).mappings()]

    async def lock_cases_offered_to(self, agent_id: uuid.UUID) -> None:
        pending = select(offers.c.case_id).where(offers.c.agent_id == agent_id, offers.c.status == "pending")
        await self.session.execute(
            select(cases.c.case_id).where(cases.c.case_id.in_(pending)).order_by(cases.c.case_id).with_for_update()
        )

    async def set_offer_status(self, offer_id: uuid.UUID, status: str, reason: str | None = None) -> datetime:
        """Set the offer's status; when it was decided (the first time it left ``pending``)."""
        result = await self.session.execute(
            update(offers)
            .where(offers.c.id == offer_id)
            .values(status=status, decided_at=func.coalesce(offers.c.decided_at, utcnow()), decline_reason=reason)
            .returning(offers.c.decided_at)
        )
        decided_at: datetime = result.scalar_one()
        return decided_at

    async def agents_who_passed(self, case_id: uuid.UUID, group_id: uuid.UUID) -> frozenset[uuid.UUID]:
        """Agents who declined or let lapse an offer of this case in this queue."""
        rows = await self.session.execute(
            select(offers.c.agent_id).where(
                offers.c.case_id == case_id,
                offers.c.group_id == group_id,
                offers.c.status.in_(PASSED_OFFER),
            )
        )
        return frozenset(rows.scalars())

    async def list_offers(
        self, *, agent_id: uuid.UUID | None, status: str | None, after: uuid.UUID | None, limit: int
    ) -> list[OfferRow]:
        statement = select(offers).order_by(offers.c.id).limit(limit)
        if agent_id is not None:
            statement = statement.where(offers.c.agent_id == agent_id)
        if status is not None:
            statement = statement.where(offers.c.status == status)
        if after is not None:
            statement = statement.where(offers.c.id > after)
        return [OfferRow(**row) for row in (await self.session.execute(statement)).mappings()]

    # -- decisions ----------------------------------------------------------------------

    async def add_decision(
        self,
        case_id: uuid.UUID,
        kind: str,
        summary: str,
        *,
        rule_id: uuid.UUID | None = None,
        group_id: uuid.UUID | None = None,
        agent_id: uuid.UUID | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        await self.session.execute(
            insert(decisions).values(
                case_id=case_id,
                at=utcnow(),
                kind=kind,
                summary=summary,
                rule_id=rule_id,
                group_id=group_id,
                agent_id=agent_id,
                details=details or {},
            )
        )

    async def add_decisions(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Log decisions in one statement, in the given order (their ``seq`` follows it)."""
        if rows:
            await self.session.execute(*insert_rows(decisions, rows))

    async def list_decisions(self, case_id: uuid.UUID, *, after: int | None, limit: int) -> list[dict[str, Any]]:
        statement = select(decisions).where(decisions.c.case_id == case_id).order_by(decisions.c.seq).limit(limit)
        if after is not None:
            statement = statement.where(decisions.c.seq > after)
        return [dict(row) for row in (await self.session.execute(statement)).mappings()]

    # -- timers -------------------------------------------------------------------------

    async def add_timer(
        self, kind: str, case_id: uuid.UUID, due_at: datetime, offer_id: uuid.UUID | None = None
    ) -> None:
        await self.session.execute(
            insert(timers).values(id=uuid7(), kind=kind, case_id=case_id, offer_id=offer_id, due_at=due_at)
        )

    async def add_timers(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert timers (every column given, ids included) in one statement."""
        if rows:
            await self.session.execute(*insert_rows(timers, rows))

    async def cancel_timers(self, case_id: uuid.UUID, kind: str | None = None) -> None:
        statement = delete(timers).where(timers.c.case_id == case_id)
        if kind is not None:
            statement = statement.where(timers.c.kind == kind)
        await self.session.execute(statement)

    async def claim_due_timers(self, now: datetime, limit: int) -> list[TimerRow]:
        """Due timers no other replica holds, removed as they are claimed (the claim
        commits with the work it triggers, or neither happens)."""
        due = (
            select(timers.c.id)
            .where(timers.c.due_at <= now)
            .order_by(timers.c.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        result = await self.session.execute(delete(timers).where(timers.c.id.in_(due)).returning(timers))
        rows = [TimerRow(**row) for row in result.mappings()]
        return sorted(rows, key=lambda row: row.due_at)

    # -- read models ------------------------------------------------------------------

    async def queue_work(
        self, group_id: uuid.UUID, *, after: tuple[int, datetime, uuid.UUID] | None, limit: int
    ) -> list[CaseRow]:
        statement = (
            select(cases)
            .where(cases.c.group_id == group_id, cases.c.state.in_(("waiting", "offered")))
            .order_by(cases.c.priority_rank.desc(), cases.c.queued_at, cases.c.case_id)
            .limit(limit)
        )
        if after is not None:
            rank, queued_at, case_id = after
            statement = statement.where(
                (cases.c.priority_rank < rank)
                | and_(cases.c.priority_rank == rank, cases.c.queued_at > queued_at)
                | and_(cases.c.priority_rank == rank, cases.c.queued_at == queued_at, cases.c.case_id > case_id)
            )
        return [CaseRow(**row) for row in (await self.session.execute(statement)).mappings()]

    async def queue_summaries(
        self, group_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[int, int, datetime | None]]:
        """Per queue: waiting count, offered count, oldest waiting since."""
        if not group_ids:
            return {}
        statement = (
            select(
                cases.c.group_id,
                func.count().filter(cases.c.state == "waiting"),
                func.count().filter(cases.c.state == "offered"),
                func.min(cases.c.queued_at),
            )
            .where(cases.c.group_id.in_(group_ids), cases.c.state.in_(("waiting", "offered")))
            .group_by(cases.c.group_id)
        )
        return {row[0]: (row[1], row[2], row[3]) for row in await self.session.execute(statement)}

    async def held_by(self, agent_id: uuid.UUID) -> list[CaseRow]:
        statement = (
            select(cases)
            .where(cases.c.holder_id == agent_id)
            .order_by(case((cases.c.state == "offered", 0), else_=1), cases.c.holder_since)
        )
        return [CaseRow(**row) for row in (await self.session.execute(statement)).mappings()]
