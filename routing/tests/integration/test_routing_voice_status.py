"""Agents' voice status (issue 25): a call's case is offered only to an agent available for calls; answering
(or placing) a call makes them busy, its end available again after their wrap-up time; each change is told
on ``routing.events`` for their console."""

from __future__ import annotations

import json
import uuid

import pytest

from omnicase.devtools.testing.apps import running
from omnicase.devtools.testing.clock import ManualClock
from omnicase.devtools.testing.plugin import SettingsFactory, eventually
from omnicase.devtools.testing.probes import read_topic
from omnicase.kit.bus.producer import EventProducer
from omnicase.kit.clock import utcnow
from omnicase.kit.events import CallAnswered, CallEnded, CallStarted, CaseCreated, Channel, EventData
from omnicase.kit.topics import Topic, physical
from omnicase.routing.agents.schemas import AgentUpdate
from omnicase.routing.agents.service import AgentService
from omnicase.routing.app import create_app
from omnicase.routing.engine import VoiceStatus
from omnicase.routing.settings import RoutingSettings
from omnicase.routing.testing import Seeder, identity_headers, snapshot, staged_for
from omnicase.routing.voice.service import VoiceStatusService

pytestmark = pytest.mark.asyncio


async def _state(seed: Seeder, case_id: uuid.UUID) -> tuple[str, uuid.UUID | None]:
    case = await seed.routing.repo.get_case(case_id)
    assert case is not None
    return case.state, case.holder_id


async def _told(seed: Seeder, agent_id: uuid.UUID) -> list[tuple[str, str, str | None]]:
    """The voice status changes staged for the agent's console: (previous, status, call)."""
    return [
        (envelope.data["previous"], envelope.data["status"], envelope.data["call_id"])
        for envelope in await staged_for(seed.session, agent_id, Topic.ROUTING_EVENTS)
        if envelope.type == "agent.voice_status_changed"
    ]


async def test_a_call_goes_only_to_an_agent_available_for_calls_who_is_busy_on_it_then_wraps_up(
    seed: Seeder, clock: ManualClock
) -> None:
    queue = await seed.group()
    talker = await seed.agent(queue, capacity=10, takes_calls=True)
    # More free capacity (best_available ranks them first), online, in the queue: but not taking calls.
    typist = await seed.agent(queue, capacity=20)

    first_call = snapshot(group_id=queue, channel=Channel.VOICE)
    email = snapshot(group_id=queue, channel=Channel.EMAIL)
    for case in (first_call, email):
        await seed.routing.apply_snapshot(case, actor="system", created=True)
    assert await _state(seed, first_call.case_id) == ("assigned", talker)
    assert await _state(seed, email.case_id) == ("assigned", typist), "other work still goes by capacity"
    log = await seed.routing.repo.list_decisions(first_call.case_id, after=None, limit=50)
    [considered] = [entry for entry in log if entry["kind"] == "assigned"]
    reasons = {c["agent_id"]: c["reason"] for c in considered["details"]["candidates"]}
    assert reasons[str(typist)] == "is offline for calls"

    await AgentService(seed.routing).update(talker, AgentUpdate(voice_wrap_up_seconds=30))
    voice = VoiceStatusService(seed.routing)
    call_id = uuid.uuid4()
    await voice.on_call(talker, call_id, "answered")
    await voice.on_call(talker, call_id, "answered")  # a redelivered answer changes nothing

    # While Tom talks, the next call waits: he is busy, the other agent does not take calls.
    second_call = snapshot(group_id=queue, channel=Channel.VOICE)
    await seed.routing.apply_snapshot(second_call, actor="system", created=True)
    assert await _state(seed, second_call.case_id) == ("waiting", None)
    log = await seed.routing.repo.list_decisions(second_call.case_id, after=None, limit=50)
    reasons = {c["agent_id"]: c["reason"] for c in log[-1]["details"]["candidates"]}
    assert reasons == {str(talker): "is busy for calls", str(typist): "is offline for calls"}

    # The call ends: 30 s of wrap-up, still busy, then available, and the waiting call is his at once.
    await voice.call_ended(call_id, utcnow())
    agent = await AgentService(seed.routing).get(talker)
    assert (agent.voice.status, agent.voice.call_id) == ("busy", None)
    assert agent.voice.wrap_up_until is not None
    await clock.advance(29)
    assert await voice.end_due_wrap_ups(100) == 0
    assert await _state(seed, second_call.case_id) == ("waiting", None)
    await clock.advance(2)
    assert await voice.end_due_wrap_ups(100) == 1
    assert (await AgentService(seed.routing).get(talker)).voice.status == "available"
    assert await _state(seed, second_call.case_id) == ("assigned", talker)
    # A late end of the same call changes nothing.
    await voice.call_ended(call_id, utcnow())

    assert await _told(seed, talker) == [
        ("offline", "available", None),
        ("available", "busy", str(call_id)),
        ("busy", "busy", None),
        ("busy", "available", None),
    ]
    assert await _told(seed, typist) == []


async def test_answering_a_call_hands_back_the_other_calls_offered_to_the_agent_and_keeps_other_offers(
    seed: Seeder, clock: ManualClock
) -> None:
    queue = await seed.group(offer_timeout=60)
    agent = await seed.agent(queue, capacity=20, takes_calls=True)
    calls = [snapshot(group_id=queue, channel=Channel.VOICE) for _ in range(2)]
    email = snapshot(group_id=queue, channel=Channel.EMAIL)
    for case in (*calls, email):
        await seed.routing.apply_snapshot(case, actor="system", created=True)
    assert [await _state(seed, case.case_id) for case in (*calls, email)] == [("offered", agent)] * 3

    await VoiceStatusService(seed.routing).on_call(agent, uuid.uuid4(), "placed")

    # Both calls are back in the queue (nobody else takes calls: they wait), the email's offer stands.
    assert [await _state(seed, case.case_id) for case in calls] == [("waiting", None)] * 2
    assert await _state(seed, email.case_id) == ("offered", agent)
    for case in calls:
        ended = [
            e for e in await staged_for(seed.session, case.case_id, Topic.ROUTING_EVENTS) if e.type == "offer.ended"
        ]
        assert [(e.data["outcome"], e.data["reason"].startswith("agent busy on call")) for e in ended] == [
            ("revoked", True)
        ]
    assert (await AgentService(seed.routing).load(agent)).used_capacity == 1


async def test_after_a_call_an_agent_is_back_to_what_they_said_available_or_offline_for_calls(
    seed: Seeder, clock: ManualClock
) -> None:
    queue = await seed.group()
    agent = await seed.agent(queue, takes_calls=True)
    agents = AgentService(seed.routing)
    voice = VoiceStatusService(seed.routing)
    call_id = uuid.uuid4()
    await voice.on_call(agent, call_id, "placed")
    assert (await agents.get(agent)).voice.call_id == call_id
    # Going offline for calls mid-call is the agent's word: the call's end does not make them available.
    await voice.set_by_person(agent, VoiceStatus.OFFLINE, "end of shift")
    await voice.call_ended(call_id, utcnow())
    assert (await agents.get(agent)).voice.status == "offline"
    # An agent who takes no calls placing one (click-to-call) is busy on it, and offline for calls after it.
    second = uuid.uuid4()
    await voice.on_call(agent, second, "placed")
    assert (await agents.get(agent)).voice.status == "busy"
    await voice.call_ended(second, utcnow())
    assert (await agents.get(agent)).voice.status == "offline"
    # A person who is no routing agent answering a call counts on nobody.
    await voice.on_call(uuid.uuid4(), uuid.uuid4(), "answered")


async def _publish(producer: EventProducer, prefix: str, data: EventData, key: str) -> None:
    await producer.publish(physical(data.topic, prefix), data.envelope(source="test", subject=key), key=key)


@pytest.mark.usefixtures("clean_routing")
async def test_the_running_service_rings_only_agents_available_for_calls_and_follows_their_calls(
    service_settings: SettingsFactory, producer: EventProducer, kafka_bootstrap: str, topic_prefix: str
) -> None:
    settings = service_settings(RoutingSettings)
    async with running(create_app(settings)) as client:
        client.headers.update(identity_headers(settings))
        group = await client.post("/api/v1/groups", json={"name": f"Phones {uuid.uuid4().hex[:6]}"})
        group_id = group.json()["id"]
        ana, ben = str(uuid.uuid4()), str(uuid.uuid4())
        for user_id, capacity in ((ana, 10), (ben, 20)):
            body = {"user_id": user_id, "name": "Agent", "capacity": capacity, "group_ids": [group_id]}
            assert (await client.post("/api/v1/agents", json=body)).status_code == 201
            assert (await client.put(f"/api/v1/agents/{user_id}/presence", json={"status": "online"})).is_success
        as_ana = identity_headers(settings, role="agent", subject=uuid.UUID(ana))
        created = (await client.get(f"/api/v1/agents/{ana}")).json()
        assert (created["voice"]["status"], created["voice_wrap_up_seconds"]) == ("offline", 0)

        # Refused, and nothing changed: busy is routing's own, an unknown agent, another agent's status,
        # a wrap-up out of range, an unknown filter value.
        before = (await client.get(f"/api/v1/agents/{ana}")).json()
        busy = await client.put(f"/api/v1/agents/{ana}/voice", json={"status": "busy"}, headers=as_ana)
        assert busy.status_code == 422
        assert [e["field"] for e in busy.json()["errors"]] == ["body.status"]
        unknown = await client.put(f"/api/v1/agents/{uuid.uuid4()}/voice", json={"status": "available"})
        assert unknown.status_code == 404
        assert unknown.json()["type"].endswith("/agent-not-found")
        others = await client.put(f"/api/v1/agents/{ben}/voice", json={"status": "available"}, headers=as_ana)
        assert others.status_code == 403
        too_long = await client.patch(f"/api/v1/agents/{ana}", json={"voice_wrap_up_seconds": 3601})
        assert too_long.status_code == 422
        assert [e["field"] for e in too_long.json()["errors"]] == ["body.voice_wrap_up_seconds"]
        assert (await client.get("/api/v1/agents", params={"voice": "ringing"})).status_code == 422
        assert (await client.get(f"/api/v1/agents/{ana}")).json() == before

        ready = await client.put(f"/api/v1/agents/{ana}/voice", json={"status": "available"}, headers=as_ana)
        assert ready.status_code == 200, ready.text
        assert ready.json()["voice"]["status"] == "available"
        listed = (await client.get("/api/v1/agents", params={"voice": "available", "group_id": group_id})).json()
        assert [agent["user_id"] for agent in listed["items"]] == [ana]

        # A call's case goes to Ana (Ben has more room but does not take calls).
        case = snapshot(group_id=uuid.UUID(group_id), channel=Channel.VOICE)
        await _publish(producer, topic_prefix, CaseCreated(case=case), str(case.case_id))

        async def routed() -> bool:
            found = (await client.get(f"/api/v1/routing/cases/{case.case_id}")).json()
            return bool(found.get("state") == "assigned" and found.get("holder_id") == ana)

        await eventually(routed, within=20, message="the call's case assigned to the agent taking calls")

        # She answers it (intake-web's voice.events): busy on it; it ends: available (no wrap-up).
        call_id, now = uuid.uuid4(), utcnow()
        channel_id = uuid.uuid4()
        answered = CallAnswered(
            call_id=call_id,
            channel_id=channel_id,
            direction="inbound",
            answered_by=f"user:{ana}",
            case_id=case.case_id,
            answered_at=now,
            wait_seconds=4,
        )
        await _publish(producer, topic_prefix, answered, str(call_id))

        async def voice_of(status: str, call: str | None) -> bool:
            voice = (await client.get(f"/api/v1/agents/{ana}")).json()["voice"]
            return (voice["status"], voice["call_id"]) == (status, call)

        await eventually(lambda: voice_of("busy", str(call_id)), within=20, message="Ana busy on the call")
        ended = CallEnded(
            call_id=call_id,
            channel_id=channel_id,
            direction="inbound",
            status="completed",
            duration_seconds=30,
            case_id=case.case_id,
            started_at=now,
            ended_at=utcnow(),
        )
        await _publish(producer, topic_prefix, ended, str(call_id))
        await eventually(lambda: voice_of("available", None), within=20, message="Ana available after the call")

        # Ben places a call from a case (click-to-call): he is busy on it from the start, though he never
        # said he takes calls (he is on the phone all the same).
        placed = uuid.uuid4()
        started = CallStarted(
            call_id=placed,
            call_sid=f"CA{placed.hex}",
            channel_id=channel_id,
            direction="outbound",
            from_number="+15005550006",
            to_number="+14155550100",
            case_id=case.case_id,
            started_at=utcnow(),
            placed_by=f"user:{ben}",
        )
        await _publish(producer, topic_prefix, started, str(placed))

        async def ben_busy() -> bool:
            voice = (await client.get(f"/api/v1/agents/{ben}")).json()["voice"]
            return bool(voice["status"] == "busy" and voice["call_id"] == str(placed))

        await eventually(ben_busy, within=20, message="Ben busy on the call he placed")
        # It ends: he is back to offline for calls, which he never left by his own word.
        ended = CallEnded(
            call_id=placed,
            channel_id=channel_id,
            direction="outbound",
            status="completed",
            duration_seconds=20,
            case_id=case.case_id,
            started_at=started.started_at,
            ended_at=utcnow(),
        )
        await _publish(producer, topic_prefix, ended, str(placed))

        async def ben_offline() -> bool:
            voice = (await client.get(f"/api/v1/agents/{ben}")).json()["voice"]
            return bool(voice["status"] == "offline" and voice["call_id"] is None)

        await eventually(ben_offline, within=20, message="Ben offline for calls after the call he placed")

        # Each change on routing.events, keyed by the agent, for the consoles' live stream.
        records = await read_topic(
            kafka_bootstrap,
            physical(Topic.ROUTING_EVENTS, topic_prefix),
            expect=5,
            keep=lambda record: record.key in (ana.encode(), ben.encode()),
        )
        told = [json.loads(record.value) for record in records]
        assert {event["type"] for event in told} == {"agent.voice_status_changed"}
        # In order per agent (one key, one partition); the two agents' partitions interleave as they may.
        assert [e["data"]["status"] for e in told if e["data"]["agent_id"] == ana] == ["available", "busy", "available"]
        assert [e["data"]["status"] for e in told if e["data"]["agent_id"] == ben] == ["busy", "offline"]
