"""Two routing replicas handling events for the same agents at the same time (and some
events twice, as after a rebalance) never assign a case twice or overrun an agent."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import text

from omnicase.kit.bus.batch import Received
from omnicase.kit.bus.consumer import is_transient
from omnicase.kit.db import Database, create_engine
from omnicase.kit.events import CaseCreated, CaseStatus, CaseUpdated, Envelope, FieldChange
from omnicase.kit.inbox import Inbox
from omnicase.routing.models import inbox as inbox_table
from omnicase.routing.settings import RoutingSettings
from omnicase.routing.testing import Seeder, snapshot
from omnicase.routing.work.consumers import CONSUMER_GROUP, case_events_handler

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("clean_routing")]

AGENTS, CAPACITY, CASES = 4, 2, 16


@pytest_asyncio.fixture
async def replicas(database_url: str) -> AsyncIterator[tuple[Database, Database]]:
    one = Database(create_engine(database_url, pool_size=8, application_name="routing-a"))
    two = Database(create_engine(database_url, pool_size=8, application_name="routing-b"))
    try:
        yield one, two
    finally:
        await one.dispose()
        await two.dispose()


async def deliver(database: Database, envelope: Envelope) -> None:
    await deliver_batch(database, [envelope])


async def deliver_batch(database: Database, envelopes: list[Envelope]) -> None:
    """What the kit's consumer does with one fetch: inbox claim and handler in one
    transaction, retried while the failure is transient."""
    handler = case_events_handler(RoutingSettings())
    inbox = Inbox(inbox_table)
    for attempt in range(10):
        try:
            async with database.unit_of_work() as session:
                new = await inbox.claim(session, CONSUMER_GROUP, [envelope.id for envelope in envelopes])
                batch = [Received(envelope, envelope.payload()) for envelope in envelopes if envelope.id in new]
                if batch:
                    await handler(session, batch)
            return
        except Exception as error:
            # A deadlock between the replicas must read as transient (retried, never dead-lettered).
            if not is_transient(error):
                raise
            await asyncio.sleep(0.05 * (attempt + 1))
    raise AssertionError("event kept failing")


async def invariants(database: Database) -> dict[str, int]:
    async with database.unit_of_work() as session:
        overrun = await session.scalar(
            text(
                "SELECT count(*) FROM routing.agents a WHERE a.used_capacity > a.capacity OR a.used_capacity <> "
                "(SELECT coalesce(sum(c.holder_cost), 0) FROM routing.cases c WHERE c.holder_id = a.user_id)"
            )
        )
        doubled = await session.scalar(
            text(
                "SELECT count(*) FROM (SELECT key FROM routing.outbox WHERE event_type = 'case.assign' "
                "GROUP BY key HAVING count(*) > 1) twice"
            )
        )
        live = await session.scalar(
            text(
                "SELECT count(*) FROM (SELECT case_id FROM routing.offers WHERE status IN ('pending', 'accepted') "
                "GROUP BY case_id HAVING count(*) > 1) twice"
            )
        )
        assigned = await session.scalar(text("SELECT count(*) FROM routing.cases WHERE state = 'assigned'"))
        waiting = await session.scalar(text("SELECT count(*) FROM routing.cases WHERE state = 'waiting'"))
        return {
            "overrun": int(overrun or 0),
            "doubled": int(doubled or 0),
            "live": int(live or 0),
            "assigned": int(assigned or 0),
            "waiting": int(waiting or 0),
        }


async def test_two_replicas_never_double_assign_or_overrun_capacity(replicas: tuple[Database, Database]) -> None:
    one, two = replicas
    async with one.unit_of_work() as session:
        seed = Seeder(session)
        queue = await seed.group()
        agents = [await seed.agent(queue, capacity=CAPACITY) for _ in range(AGENTS)]

    cases = [snapshot(group_id=queue) for _ in range(CASES)]
    created = [CaseCreated(case=case).envelope(source="case-core", subject=str(case.case_id)) for case in cases]
    # Each replica owns half of the cases; a third of the events reach both (a rebalance).
    deliveries = [deliver(one if index % 2 else two, envelope) for index, envelope in enumerate(created)]
    deliveries += [deliver(two if index % 2 else one, envelope) for index, envelope in enumerate(created[::3])]
    random.shuffle(deliveries)
    await asyncio.gather(*deliveries)

    after_routing = await invariants(one)
    assert after_routing == {
        "overrun": 0,
        "doubled": 0,
        "live": 0,
        "assigned": AGENTS * CAPACITY,
        "waiting": CASES - AGENTS * CAPACITY,
    }

    # Half the agents' work is solved at once on both replicas: each freed unit pulls
    # one waiting case, and no case goes to two of them.
    async with one.unit_of_work() as session:
        held = (
            await session.execute(
                text("SELECT case_id, holder_id FROM routing.cases WHERE state = 'assigned' ORDER BY case_id")
            )
        ).all()
    solved_ids = {row.case_id: row.holder_id for row in held[: AGENTS * CAPACITY // 2]}
    solved = []
    for case in cases:
        if case.case_id in solved_ids:
            after = case.model_copy(
                update={"status": CaseStatus.SOLVED, "version": 5, "assignee_id": solved_ids[case.case_id]}
            )
            update = CaseUpdated(
                case_id=case.case_id,
                version=5,
                changes={"status": FieldChange(old="open", new="solved")},
                actor="user:agent",
                case=after,
            )
            solved.append(update.envelope(source="case-core", subject=str(case.case_id)))
    await asyncio.gather(*(deliver(one if index % 2 else two, e) for index, e in enumerate(solved)))

    after_solving = await invariants(two)
    assert after_solving == {
        "overrun": 0,
        "doubled": 0,
        "live": 0,
        "assigned": AGENTS * CAPACITY,
        "waiting": CASES - AGENTS * CAPACITY - len(solved),
    }
    async with one.unit_of_work() as session:
        loads = (
            await session.execute(
                text("SELECT used_capacity FROM routing.agents WHERE user_id = ANY(:ids)"), {"ids": agents}
            )
        ).scalars()
        assert sorted(loads) == [CAPACITY] * AGENTS


async def test_two_replicas_routing_whole_batches_never_overrun_capacity(
    replicas: tuple[Database, Database],
) -> None:
    one, two = replicas
    async with one.unit_of_work() as session:
        seed = Seeder(session)
        queue = await seed.group()
        for _ in range(AGENTS):
            await seed.agent(queue, capacity=CAPACITY)

    cases = [snapshot(group_id=queue) for _ in range(CASES * 2)]
    created = [CaseCreated(case=case).envelope(source="case-core", subject=str(case.case_id)) for case in cases]
    chunks = [created[start : start + 5] for start in range(0, len(created), 5)]
    # Each replica takes every other batch; some batches reach both (a rebalance).
    deliveries = [deliver_batch(one if index % 2 else two, chunk) for index, chunk in enumerate(chunks)]
    deliveries += [deliver_batch(two if index % 2 else one, chunk) for index, chunk in enumerate(chunks[::3])]
    random.shuffle(deliveries)
    await asyncio.gather(*deliveries)

    assert await invariants(two) == {
        "overrun": 0,
        "doubled": 0,
        "live": 0,
        "assigned": AGENTS * CAPACITY,
        "waiting": CASES * 2 - AGENTS * CAPACITY,
    }
