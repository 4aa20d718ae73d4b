"""The running service against the real broker: case.events in, case.commands and
routing.events out, offers answered through the API and lapsing on the timer worker."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from omnicase.devtools.testing.apps import running
from omnicase.devtools.testing.plugin import SettingsFactory, eventually
from omnicase.devtools.testing.probes import read_topic
from omnicase.kit.bus.producer import EventProducer
from omnicase.kit.db import create_engine
from omnicase.kit.events import CaseCreated, CaseStatus, CaseUpdated, FieldChange
from omnicase.kit.topics import Topic, physical
from omnicase.routing.app import create_app
from omnicase.routing.settings import RoutingSettings
from omnicase.routing.testing import identity_headers, snapshot

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("clean_routing")]


async def setup_queue(client: httpx.AsyncClient, *, agents: int, **group: Any) -> tuple[str, list[str]]:
    response = await client.post("/api/v1/groups", json={"name": f"q-{uuid.uuid4().hex[:6]}", **group})
    assert response.status_code == 201, response.text
    group_id = response.json()["id"]
    ids = []
    for capacity in range(agents + 4, 4, -1):  # distinct capacities: a known order of preference
        user_id = str(uuid.uuid4())
        body = {"user_id": user_id, "name": "Agent", "capacity": capacity, "group_ids": [group_id]}
        assert (await client.post("/api/v1/agents", json=body)).status_code == 201
        online = await client.put(f"/api/v1/agents/{user_id}/presence", json={"status": "online"})
        assert online.status_code == 200
        ids.append(user_id)
    return group_id, ids


async def test_new_case_event_is_offered_accepted_and_assigned_through_case_core(
    service_settings: SettingsFactory, producer: EventProducer, kafka_bootstrap: str, topic_prefix: str
) -> None:
    settings = service_settings(RoutingSettings)
    async with running(create_app(settings)) as client:
        client.headers.update(identity_headers(settings))
        group_id, (agent, _) = await setup_queue(client, agents=2, offer_timeout_seconds=300)
        case = snapshot(group_id=uuid.UUID(group_id))
        created = CaseCreated(case=case, description="My invoice is wrong")
        await producer.publish(
            physical(Topic.CASE_EVENTS, topic_prefix),
            created.envelope(source="case-core", subject=str(case.case_id)),
            key=str(case.case_id),
        )

        async def offered() -> list[dict[str, Any]]:
            page = await client.get("/api/v1/routing/offers", params={"agent_id": agent, "status": "pending"})
            items: list[dict[str, Any]] = page.json()["items"]
            return items

        await eventually(offered, within=20, message="an offer to the best agent")
        offer = (await offered())[0]
        assert offer["case_id"] == str(case.case_id)
        work = (await client.get(f"/api/v1/queues/{group_id}/work")).json()["items"]
        assert [(item["case_id"], item["state"], item["offered_to"]) for item in work] == [
            (str(case.case_id), "offered", agent)
        ]

        as_agent = identity_headers(settings, role="agent", subject=uuid.UUID(agent))
        too_long = await client.post(
            f"/api/v1/agents/{agent}/offers/{offer['id']}/decline", json={"reason": "x" * 501}, headers=as_agent
        )
        assert too_long.status_code == 422
        assert [e["field"] for e in too_long.json()["errors"]] == ["body.reason"]
        assert (await offered())[0]["status"] == "pending"
        accepted = await client.post(f"/api/v1/agents/{agent}/offers/{offer['id']}/accept", headers=as_agent)
        assert accepted.status_code == 200, accepted.text
        again = await client.post(f"/api/v1/agents/{agent}/offers/{offer['id']}/accept", headers=as_agent)
        assert again.status_code == 409

        records = await read_topic(kafka_bootstrap, physical(Topic.CASE_COMMANDS, topic_prefix), expect=1)
        commands = [json.loads(record.value) for record in records]
        assert [(c["type"], c["data"]["assignee_id"]) for c in commands] == [("case.assign", agent)]
        assert {record.key for record in records} == {str(case.case_id).encode()}
        records = await read_topic(kafka_bootstrap, physical(Topic.ROUTING_EVENTS, topic_prefix), expect=2)
        told = [json.loads(record.value) for record in records]
        assert [(e["type"], e["data"]["offer_id"], e["data"]["agent_id"]) for e in told] == [
            ("offer.created", offer["id"], agent),
            ("offer.ended", offer["id"], agent),
        ]
        assert told[1]["data"]["outcome"] == "accepted"
        assert {record.key for record in records} == {str(case.case_id).encode()}

        load = (await client.get(f"/api/v1/agents/{agent}/load")).json()
        assert (load["used_capacity"], [w["case_id"] for w in load["work"]]) == (1, [str(case.case_id)])
        decisions = (await client.get(f"/api/v1/routing/cases/{case.case_id}/decisions")).json()["items"]
        assert [d["kind"] for d in decisions] == ["queued", "offered", "accepted"]
        assert (await client.get(f"/api/v1/routing/cases/{uuid.uuid4()}/decisions")).status_code == 404

        solved = case.model_copy(update={"status": CaseStatus.SOLVED, "version": 3, "assignee_id": uuid.UUID(agent)})
        update = CaseUpdated(
            case_id=case.case_id,
            version=3,
            changes={"status": FieldChange(old="open", new="solved")},
            actor=f"user:{agent}",
            case=solved,
        )
        await producer.publish(
            physical(Topic.CASE_EVENTS, topic_prefix),
            update.envelope(source="case-core", subject=str(case.case_id)),
            key=str(case.case_id),
        )

        async def freed() -> bool:
            return bool((await client.get(f"/api/v1/agents/{agent}/load")).json()["used_capacity"] == 0)

        await eventually(freed, within=20, message="capacity freed by the solved case")
        state = (await client.get(f"/api/v1/routing/cases/{case.case_id}")).json()
        assert state["state"] == "closed"
        metrics = (await client.get("/metrics")).text
        assert 'omnicase_routing_decisions_total{kind="accepted"}' in metrics
        assert 'omnicase_routing_decision_seconds_count{step="agents"}' in metrics


async def test_unanswered_offer_moves_to_the_next_agent_on_its_own(
    service_settings: SettingsFactory, producer: EventProducer, topic_prefix: str
) -> None:
    settings = service_settings(RoutingSettings, timer_poll_interval=0.1)
    async with running(create_app(settings)) as client:
        client.headers.update(identity_headers(settings))
        group_id, (first, second) = await setup_queue(client, agents=2, offer_timeout_seconds=1)
        case = snapshot(group_id=uuid.UUID(group_id))
        await producer.publish(
            physical(Topic.CASE_EVENTS, topic_prefix),
            CaseCreated(case=case).envelope(source="case-core", subject=str(case.case_id)),
            key=str(case.case_id),
        )

        async def holder() -> str | None:
            response = await client.get(f"/api/v1/routing/cases/{case.case_id}")
            return response.json()["holder_id"] if response.status_code == 200 else None

        await eventually(lambda: _equals(holder, first), within=20, message="offer to the first agent")
        await eventually(lambda: _equals(holder, second), within=10, message="offer moved to the second agent")
        expired = (await client.get("/api/v1/routing/offers", params={"agent_id": first})).json()["items"]
        assert [offer["status"] for offer in expired] == ["expired"]


async def _equals(read: Any, expected: str) -> bool:
    return bool(await read() == expected)


async def test_waiting_work_that_missed_a_capacity_change_is_still_pushed(
    service_settings: SettingsFactory, producer: EventProducer, topic_prefix: str, database_url: str
) -> None:
    settings = service_settings(RoutingSettings, timer_poll_interval=0.1, sweep_interval=0.2)
    async with running(create_app(settings)) as client:
        client.headers.update(identity_headers(settings))
        group_id, (agent,) = await setup_queue(client, agents=1)
        await client.patch(f"/api/v1/agents/{agent}", json={"capacity": 1})
        first, second = snapshot(group_id=uuid.UUID(group_id)), snapshot(group_id=uuid.UUID(group_id))
        for case in (first, second):
            await producer.publish(
                physical(Topic.CASE_EVENTS, topic_prefix),
                CaseCreated(case=case).envelope(source="case-core", subject=str(case.case_id)),
                key=str(case.case_id),
            )

        async def state_of(case_id: uuid.UUID) -> str | None:
            response = await client.get(f"/api/v1/routing/cases/{case_id}")
            return response.json()["state"] if response.status_code == 200 else None

        async def one_waits() -> bool:
            return sorted([await state_of(first.case_id) or "", await state_of(second.case_id) or ""]) == [
                "assigned",
                "waiting",
            ]

        # The two cases travel on different partitions: either may be routed first.
        await eventually(one_waits, message="one case assigned, the other waiting")
        waiting = first if await state_of(first.case_id) == "waiting" else second
        # Capacity freed by a transaction that raced the routing of the waiting case and
        # so never saw it: nothing but the periodic check will hand it out.
        engine = create_engine(database_url, pool_size=1)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text("UPDATE routing.agents SET capacity = 2 WHERE user_id = :id"), {"id": uuid.UUID(agent)}
                )
        finally:
            await engine.dispose()
        await eventually(lambda: _equals(lambda: state_of(waiting.case_id), "assigned"), within=10, message="pushed")
