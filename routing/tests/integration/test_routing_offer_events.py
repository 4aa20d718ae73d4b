"""Offers told on ``routing.events`` through the outbox: ``offer.created`` when a case is
offered, ``offer.ended`` with its outcome on every path that ends a pending offer."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from omnicase.devtools.testing.clock import ManualClock
from omnicase.kit.bus.batch import Received
from omnicase.kit.events import CaseCreated, CaseSnapshot, CaseStatus, EventData, OfferCreated, OfferEnded
from omnicase.kit.topics import Topic
from omnicase.routing.engine import Presence
from omnicase.routing.settings import RoutingSettings
from omnicase.routing.testing import Seeder, offer_events_for, snapshot, staged_for
from omnicase.routing.work.consumers import case_events_handler
from omnicase.routing.work.repository import OfferRow

pytestmark = pytest.mark.asyncio


async def offered(seed: Seeder, queue: uuid.UUID, *agents: uuid.UUID) -> tuple[CaseSnapshot, OfferRow]:
    """A new case in ``queue``, offered to the first of ``agents`` who has it."""
    case = snapshot(group_id=queue)
    await seed.routing.apply_snapshot(case, actor="system", created=True)
    for agent in agents:
        pending = await seed.routing.repo.pending_offers_of(agent)
        if pending:
            return case, pending[0]
    raise AssertionError("the case was offered to none of the agents")


def ended(events: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, str, str | None]]:
    """(agent, outcome, reason) of each ``offer.ended``, in order."""
    return [
        (data["agent_id"], data["outcome"], data["reason"]) for kind, data in events if kind == OfferEnded.event_type
    ]


def created_for(events: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [data["agent_id"] for kind, data in events if kind == OfferCreated.event_type]


async def test_offering_a_case_publishes_offer_created_for_that_agent(seed: Seeder, clock: ManualClock) -> None:
    queue = await seed.group(offer_timeout=30)
    agent = await seed.agent(queue)

    case, offer = await offered(seed, queue, agent)

    envelopes = await staged_for(seed.session, case.case_id, Topic.ROUTING_EVENTS)
    assert [(e.type, e.source, e.subject) for e in envelopes] == [("offer.created", "routing", str(case.case_id))]
    data = OfferCreated.parse(envelopes[0])
    assert data == OfferCreated(
        offer_id=offer.id,
        case_id=case.case_id,
        agent_id=agent,
        group_id=queue,
        expires_at=clock.now() + timedelta(seconds=30),
        created_at=clock.now(),
    )


async def test_a_queue_that_auto_accepts_publishes_no_offer_events(seed: Seeder, clock: ManualClock) -> None:
    queue = await seed.group()
    await seed.agent(queue)
    case = snapshot(group_id=queue)

    await seed.routing.apply_snapshot(case, actor="system", created=True)

    # An assignment, not an offer to answer: case-core tells it as case.updated.
    routed = await seed.routing.repo.get_case(case.case_id)
    assert routed is not None
    assert routed.state == "assigned"
    assert await offer_events_for(seed.session, case.case_id) == []


async def test_accepting_an_offer_publishes_offer_ended_accepted(seed: Seeder, clock: ManualClock) -> None:
    queue = await seed.group(offer_timeout=30)
    agent = await seed.agent(queue)
    case, offer = await offered(seed, queue, agent)
    await clock.advance(5)

    await seed.routing.accept(offer.id, agent_id=agent)

    events = await offer_events_for(seed.session, case.case_id)
    assert [kind for kind, _ in events] == ["offer.created", "offer.ended"]
    assert OfferEnded.model_validate(events[-1][1]) == OfferEnded(
        offer_id=offer.id,
        case_id=case.case_id,
        agent_id=agent,
        group_id=queue,
        outcome="accepted",
        reason=None,
        ended_at=clock.now(),
    )


async def test_declining_an_offer_publishes_offer_ended_declined_then_the_next_offer(
    seed: Seeder, clock: ManualClock
) -> None:
    queue = await seed.group(offer_timeout=30)
    first = await seed.agent(queue, capacity=10)
    second = await seed.agent(queue, capacity=5)
    case, offer = await offered(seed, queue, first, second)
    assert offer.agent_id == first

    await seed.routing.decline(offer.id, "not my area", agent_id=first)

    events = await offer_events_for(seed.session, case.case_id)
    assert [kind for kind, _ in events] == ["offer.created", "offer.ended", "offer.created"]
    assert ended(events) == [(str(first), "declined", "not my area")]
    assert created_for(events) == [str(first), str(second)]
    assert events[1][1]["offer_id"] == str(offer.id)


async def test_an_offer_not_accepted_in_time_publishes_offer_ended_expired(seed: Seeder, clock: ManualClock) -> None:
    queue = await seed.group(offer_timeout=30)
    first = await seed.agent(queue, capacity=10)
    second = await seed.agent(queue, capacity=5)
    case, _ = await offered(seed, queue, first, second)

    await clock.advance(29)
    await seed.routing.fire_due_timers(100)
    assert ended(await offer_events_for(seed.session, case.case_id)) == []
    await clock.advance(2)
    await seed.routing.fire_due_timers(100)

    events = await offer_events_for(seed.session, case.case_id)
    assert ended(events) == [(str(first), "expired", "not accepted within 30 s")]
    assert created_for(events) == [str(first), str(second)]


async def test_an_agent_going_offline_publishes_offer_ended_revoked(seed: Seeder, clock: ManualClock) -> None:
    queue = await seed.group(offer_timeout=60)
    leaving = await seed.agent(queue, capacity=10)
    staying = await seed.agent(queue, capacity=5)
    case, _ = await offered(seed, queue, leaving, staying)

    await seed.presence(leaving, Presence.OFFLINE)

    events = await offer_events_for(seed.session, case.case_id)
    assert ended(events) == [(str(leaving), "revoked", "agent went offline")]
    assert created_for(events) == [str(leaving), str(staying)]


async def test_a_case_solved_while_offered_publishes_offer_ended_revoked(seed: Seeder, clock: ManualClock) -> None:
    queue = await seed.group(offer_timeout=60)
    agent = await seed.agent(queue)
    case, offer = await offered(seed, queue, agent)

    solved = case.model_copy(update={"version": 2, "status": CaseStatus.SOLVED})
    await seed.routing.apply_snapshot(solved, actor="user:lead", changed=frozenset({"status"}))

    events = await offer_events_for(seed.session, case.case_id)
    assert ended(events) == [(str(agent), "revoked", "case solved")]
    assert events[-1][1]["offer_id"] == str(offer.id)
    # Ended once: solving it again (a later echo) tells nothing more.
    closed = solved.model_copy(update={"version": 3, "status": CaseStatus.CLOSED})
    await seed.routing.apply_snapshot(closed, actor="user:lead", changed=frozenset({"status"}))
    assert len(await offer_events_for(seed.session, case.case_id)) == 2


async def test_a_batch_publishes_offer_created_for_each_case_it_offers(seed: Seeder, clock: ManualClock) -> None:
    offering = await seed.group(offer_timeout=45)
    auto = await seed.group()
    agents = {await seed.agent(offering, capacity=3), await seed.agent(offering, capacity=3)}
    await seed.agent(auto)
    offers = [snapshot(group_id=offering) for _ in range(4)]
    assigned = snapshot(group_id=auto)
    handler = case_events_handler(RoutingSettings())

    batch: list[Received[EventData]] = [
        Received(CaseCreated(case=case).envelope(source="case-core", subject=str(case.case_id)), CaseCreated(case=case))
        for case in [*offers, assigned]
    ]
    await handler(seed.session, batch)

    for case in offers:
        envelopes = await staged_for(seed.session, case.case_id, Topic.ROUTING_EVENTS)
        assert [(e.type, e.subject) for e in envelopes] == [("offer.created", str(case.case_id))]
        data = OfferCreated.parse(envelopes[0])
        live = await seed.routing.repo.live_offer(case.case_id)
        assert live is not None
        assert (data.offer_id, data.agent_id, data.group_id) == (live.id, live.agent_id, offering)
        assert data.agent_id in agents
        assert data.expires_at == clock.now() + timedelta(seconds=45)
    assert await offer_events_for(seed.session, assigned.case_id) == []
