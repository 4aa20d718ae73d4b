"""The ``case.events`` handler given whole batches: the statements it runs do not grow
with the batch, and a batch ends exactly where the same events one at a time end."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.devtools.testing.clock import ManualClock
from omnicase.devtools.testing.database import database_work
from omnicase.kit.bus.batch import BatchHandler, Received
from omnicase.kit.events import (
    CaseCreated,
    CaseMessageAdded,
    CaseSnapshot,
    CaseStatus,
    CaseUpdated,
    Channel,
    EventData,
    FieldChange,
    Priority,
)
from omnicase.kit.staging import flush_staged
from omnicase.routing.engine import RoutingModel, RuleConditions
from omnicase.routing.models import agents, cases, decisions, group_members, offers, timers
from omnicase.routing.rules.schemas import RuleUpdate
from omnicase.routing.rules.service import RuleService
from omnicase.routing.settings import RoutingSettings
from omnicase.routing.testing import Seeder, commands_for, offer_events_for, snapshot
from omnicase.routing.work.consumers import case_events_handler

pytestmark = pytest.mark.asyncio


def received(data: EventData, case_id: uuid.UUID) -> Received[EventData]:
    return Received(data.envelope(source="case-core", subject=str(case_id)), data)


def created(case: CaseSnapshot) -> Received[EventData]:
    return received(CaseCreated(case=case, description="hello there"), case.case_id)


def updated(case: CaseSnapshot, actor: str, **changes: tuple[Any, Any]) -> Received[EventData]:
    data = CaseUpdated(
        case_id=case.case_id,
        version=case.version,
        changes={name: FieldChange(old=old, new=new) for name, (old, new) in changes.items()},
        actor=actor,
        case=case,
    )
    return received(data, case.case_id)


async def outcome(session: AsyncSession, case_ids: Sequence[uuid.UUID], agent_ids: Sequence[uuid.UUID]) -> Any:
    """Everything routing wrote about these cases and agents, without generated ids."""
    rows = {
        row.case_id: (row.state, row.group_id, row.assignee_id, row.holder_id, row.holder_cost, row.rule_id)
        for row in await session.execute(select(cases).where(cases.c.case_id.in_(case_ids)))
    }
    log: dict[uuid.UUID, list[Any]] = {}
    for row in await session.execute(
        select(decisions).where(decisions.c.case_id.in_(case_ids)).order_by(decisions.c.seq)
    ):
        details = {key: value for key, value in row.details.items() if key != "offer_id"}
        log.setdefault(row.case_id, []).append((row.kind, row.summary, row.group_id, row.agent_id, details))
    handed = sorted(
        (row.case_id, row.agent_id, row.status, row.expires_at)
        for row in await session.execute(select(offers).where(offers.c.case_id.in_(case_ids)))
    )
    due = sorted(
        (row.case_id, row.kind, row.due_at)
        for row in await session.execute(select(timers).where(timers.c.case_id.in_(case_ids)))
    )
    loads = {
        row.user_id: (row.used_capacity, row.active_cases)
        for row in await session.execute(select(agents).where(agents.c.user_id.in_(agent_ids)))
    }
    commands = {case_id: await commands_for(session, case_id) for case_id in case_ids}
    told = {
        case_id: [
            (kind, {key: value for key, value in data.items() if key != "offer_id"})
            for kind, data in await offer_events_for(session, case_id)
        ]
        for case_id in case_ids
    }
    return [[rows.get(case_id) for case_id in case_ids], log, handed, due, loads, commands, told]


async def batch_and_one_at_a_time(
    seed: Seeder, handler: BatchHandler, batch: list[Received[EventData]], agent_ids: Sequence[uuid.UUID]
) -> tuple[Any, Any]:
    """What routing wrote after ``batch`` as one batch and after its events one by one,
    from the same starting point."""
    case_ids = list(dict.fromkeys(uuid.UUID(item.envelope.subject) for item in batch))
    await flush_staged(seed.session)  # the commands of earlier batches, readable inside the savepoint
    savepoint = await seed.session.begin_nested()
    for item in batch:
        await handler(seed.session, [item])
    one_at_a_time = await outcome(seed.session, case_ids, agent_ids)
    await savepoint.rollback()
    await handler(seed.session, batch)
    return await outcome(seed.session, case_ids, agent_ids), one_at_a_time


async def test_statements_per_batch_do_not_grow_with_the_batch(seed: Seeder, clock: ManualClock) -> None:
    queue = await seed.group()
    for _ in range(5):
        await seed.agent(queue, capacity=100)
    handler = case_events_handler(RoutingSettings())
    # The first batch after a configuration change loads it (three statements more).
    await handler(seed.session, [created(snapshot(group_id=queue))])
    counts = {}
    executions = {}
    for size in (1, 50):
        batch = [created(snapshot(group_id=queue)) for _ in range(size)]
        with database_work(seed.session) as work:
            await handler(seed.session, batch)
        counts[size] = len(work.statements)
        executions[size] = work.executions
        states = {
            row.state
            for row in await seed.session.execute(
                select(cases.c.state).where(cases.c.case_id.in_([uuid.UUID(item.envelope.subject) for item in batch]))
            )
        }
        assert states == {"assigned"}

    assert counts[50] == counts[1], counts
    # What PostgreSQL runs, not only what is sent: no statement is executed once per case
    # or per agent (an executemany would be), so 50 new cases cost what one does.
    assert executions[50] == executions[1], executions
    # Lock the cases, config version, lock and load the queue's agents (2), cases,
    # loads, offers, decisions, commands.
    assert counts[1] <= 9, counts


async def test_new_cases_in_one_batch_are_routed_as_one_at_a_time(seed: Seeder, clock: ManualClock) -> None:
    billing = await seed.skill()
    best = await seed.group()
    rotating = await seed.group(model=RoutingModel.ROUND_ROBIN)
    fewest = await seed.group(model=RoutingModel.LEAST_ACTIVE)
    offering = await seed.group(offer_timeout=30)
    fallback = await seed.group()
    overflowing = await seed.group(overflow_after=600, overflow_to=fallback)
    brand = f"brand-{uuid.uuid4().hex[:8]}"
    await seed.rule(rotating, RuleConditions(brands=[brand], tags_any=["rotate"]))
    await seed.rule(fewest, RuleConditions(brands=[brand], keywords=["order"]), skills={billing: 3})
    await seed.rule(offering, RuleConditions(brands=[brand], priorities=[Priority.URGENT]))
    agent_ids = [
        await seed.agent(best, rotating, capacity=4),
        await seed.agent(best, fewest, skills={billing: 5}, capacity=3),
        await seed.agent(rotating, fewest, offering, skills={billing: 2}, capacity=6),
        await seed.agent(rotating, offering, overflowing, capacity=5),
    ]
    handler = case_events_handler(RoutingSettings())
    batch = []
    for index in range(40):
        kind = index % 5
        if kind == 0:
            case = snapshot(group_id=best, channel=Channel.SMS if index % 3 else Channel.EMAIL)
        elif kind == 1:
            case = snapshot(brand=brand, tags=["rotate"], subject="hello")
        elif kind == 2:
            case = snapshot(brand=brand, subject="Where is my order?")
        elif kind == 3:
            case = snapshot(brand=brand, priority=Priority.URGENT, group_id=best, subject="now")
        else:
            case = snapshot(group_id=overflowing if index % 2 else None, brand=brand, subject="hi")
        batch.append(created(case))

    in_one_batch, one_at_a_time = await batch_and_one_at_a_time(seed, handler, batch, agent_ids)

    assert in_one_batch == one_at_a_time
    states = [row[0] for row in in_one_batch[0]]
    assert {"assigned", "offered", "waiting", "unrouted"} <= set(states)
    told = [kind for events in in_one_batch[6].values() for kind, _ in events]
    assert told.count("offer.created") == states.count("offered") > 0


async def test_a_batch_mixing_new_and_known_cases_ends_as_one_at_a_time(seed: Seeder, clock: ManualClock) -> None:
    # New cases are decided before the batch's other changes run (cases are independent):
    # here nothing those changes free is capacity a new case could have used, so which
    # (equally valid) agent is best cannot differ.
    queue = await seed.group()
    other = await seed.group()
    fresh = await seed.group()
    agent_ids = [
        await seed.agent(queue, capacity=2),
        await seed.agent(other, capacity=2),
        await seed.agent(fresh, capacity=2),
        await seed.agent(fresh, capacity=1),
    ]
    handler = case_events_handler(RoutingSettings())
    known = [snapshot(group_id=queue) for _ in range(3)]
    await handler(seed.session, [created(case) for case in known])
    person = uuid.uuid4()

    new = snapshot()
    replied = snapshot(group_id=fresh)
    later = known[0].model_copy(update={"version": 2, "status": CaseStatus.SOLVED})
    batch = [
        created(new),
        # A new case a person assigns to someone else within the same batch.
        updated(
            new.model_copy(update={"version": 2, "assignee_id": person}),
            f"user:{person}",
            assignee_id=(None, str(person)),
        ),
        # A reply that changes nothing routing reads.
        received(
            CaseMessageAdded(
                case_id=known[1].case_id,
                message_id=uuid.uuid4(),
                direction="inbound",
                public=True,
                author="contact:x",
                channel=Channel.EMAIL,
                case=known[1].model_copy(update={"version": 2}),
            ),
            known[1].case_id,
        ),
        # A solved case frees its agent, who takes the waiting work.
        updated(later, "user:agent", status=("open", "solved")),
        created(replied),
        # The echo of routing's own command, and a move by a person.
        updated(
            known[2].model_copy(update={"version": 2, "priority": Priority.HIGH}),
            "routing: best",
            priority=("normal", "high"),
        ),
        updated(
            known[2].model_copy(update={"version": 3, "group_id": other}),
            "user:lead",
            group_id=(str(queue), str(other)),
        ),
        # Older than what routing has: ignored.
        updated(
            known[0].model_copy(update={"version": 1, "status": CaseStatus.OPEN}), "user:x", status=("new", "open")
        ),
    ]

    in_one_batch, one_at_a_time = await batch_and_one_at_a_time(seed, handler, batch, agent_ids)

    assert in_one_batch == one_at_a_time
    # In batch order: new, known[1], known[0], replied, known[2].
    assert [row[:2] for row in in_one_batch[0]] == [
        ("manual", None),
        ("assigned", queue),
        ("closed", queue),
        ("assigned", fresh),
        ("assigned", other),
    ]


async def test_an_event_that_changes_nothing_routing_reads_writes_nothing(seed: Seeder, clock: ManualClock) -> None:
    queue = await seed.group()
    await seed.agent(queue)
    handler = case_events_handler(RoutingSettings())
    case = snapshot(group_id=queue)
    await handler(seed.session, [created(case)])
    before = (await seed.session.execute(select(cases).where(cases.c.case_id == case.case_id))).one()

    reply = CaseMessageAdded(
        case_id=case.case_id,
        message_id=uuid.uuid4(),
        direction="inbound",
        public=True,
        author="contact:x",
        channel=Channel.EMAIL,
        case=case.model_copy(update={"version": 2, "requester_id": uuid.uuid4()}),
    )
    with database_work(seed.session) as work:
        await handler(seed.session, [received(reply, case.case_id)])

    assert [statement.split()[0] for statement in work.statements] == ["SELECT"]
    assert (await seed.session.execute(select(cases).where(cases.c.case_id == case.case_id))).one() == before


async def test_a_changed_rule_applies_to_the_next_batch(seed: Seeder, clock: ManualClock) -> None:
    first = await seed.group()
    second = await seed.group()
    brand = f"brand-{uuid.uuid4().hex[:8]}"
    rule_id = await seed.rule(first, RuleConditions(brands=[brand]))
    handler = case_events_handler(RoutingSettings())
    before = snapshot(brand=brand)
    await handler(seed.session, [created(before)])

    await RuleService(seed.session).update(rule_id, RuleUpdate(target_group_id=second))
    after = snapshot(brand=brand)
    await handler(seed.session, [created(after)])

    groups = dict(
        (
            await seed.session.execute(
                select(cases.c.case_id, cases.c.group_id).where(cases.c.case_id.in_([before.case_id, after.case_id]))
            )
        ).all()
    )
    assert groups == {before.case_id: first, after.case_id: second}


async def test_offers_and_changes_to_known_cases_are_executed_once_per_batch_whatever_its_size(
    seed: Seeder, clock: ManualClock
) -> None:
    queue = await seed.group(model=RoutingModel.ROUND_ROBIN, offer_timeout=30)
    agent_ids = [await seed.agent(queue, capacity=100) for _ in range(3)]
    handler = case_events_handler(RoutingSettings())
    await handler(seed.session, [created(snapshot(group_id=queue))])  # loads the configuration
    offering: dict[int, int] = {}
    changing: dict[int, int] = {}
    for size in (1, 40):
        await clock.advance(5)
        cases_ = [snapshot(group_id=queue, tags=["first"]) for _ in range(size)]
        with database_work(seed.session) as work:
            await handler(seed.session, [created(case) for case in cases_])
        offering[size] = work.executions
        changed = [
            case.model_copy(
                update={"version": 2, "subject": f"now {index}", "tags": ["b", "a"], "custom_fields": {"n": index}}
            )
            for index, case in enumerate(cases_)
        ]
        batch = [
            updated(case, "agent: someone", subject=(old.subject, case.subject), tags=(old.tags, case.tags))
            for old, case in zip(cases_, changed, strict=True)
        ]
        with database_work(seed.session) as work:
            await handler(seed.session, batch)
        changing[size] = work.executions

        ids = [case.case_id for case in cases_]
        stored = {
            row.case_id: (row.state, row.version, row.subject, row.tags, row.custom_fields)
            for row in await seed.session.execute(select(cases).where(cases.c.case_id.in_(ids)))
        }
        assert [stored[case.case_id] for case in changed] == [
            ("offered", 2, f"now {index}", ["b", "a"], {"n": index}) for index in range(size)
        ]
        pending = await seed.session.execute(
            select(offers.c.agent_id).where(offers.c.case_id.in_(ids), offers.c.status == "pending")
        )
        offered_to = list(pending.scalars())
        assert len(offered_to) == size
        assert set(offered_to) <= set(agent_ids)
        # The rotation is kept per queue and agent: each offered agent's mark is this batch's.
        marks = {
            row.agent_id: row.last_offered_at
            for row in await seed.session.execute(select(group_members).where(group_members.c.group_id == queue))
        }
        assert {marks[agent_id] for agent_id in offered_to} == {clock.now()}
        due = await seed.session.execute(select(timers.c.case_id).where(timers.c.case_id.in_(ids)))
        assert len(set(due.scalars())) == size

    assert offering[40] == offering[1], offering
    # Lock the cases and nothing else: the changes are one UPDATE for the batch.
    assert changing[40] == changing[1] == 2, changing
