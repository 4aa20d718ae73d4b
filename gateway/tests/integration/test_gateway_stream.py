"""The live stream over real HTTP, fed from a real broker: who hears what, resuming, tickets, refusals."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest

from omnicase.devtools.devstack.processes import free_port
from omnicase.devtools.testing.plugin import eventually
from omnicase.devtools.testing.servers import serve_http
from omnicase.gateway.app import create_app
from omnicase.gateway.stream import positions
from omnicase.gateway.stream.reader import ReceivedEvent, StreamReader, open_stream
from omnicase.gateway.testing import Gateway, Upstream, gateway_settings
from omnicase.kit.bus.producer import EventProducer
from omnicase.kit.clock import utcnow
from omnicase.kit.events import (
    AgentVoiceStatusChanged,
    CallAnswered,
    CallEnded,
    CallStarted,
    CaseCreated,
    CaseMessageAdded,
    CaseSatisfactionRated,
    CaseSnapshot,
    CaseUpdated,
    EventData,
    FieldChange,
    OfferCreated,
    SlaThresholdReached,
    SwarmMessagePosted,
    SwarmStarted,
)
from omnicase.kit.topics import physical

pytestmark = pytest.mark.asyncio


class Suite:
    """A gateway with its stream on, over real HTTP, and a producer playing the services."""

    def __init__(self, gateway: Gateway, url: str, producer: EventProducer, prefix: str) -> None:
        self.gateway = gateway
        self.url = url
        self.producer = producer
        self.prefix = prefix
        self.http = httpx.AsyncClient(base_url=url)

    async def publish(self, data: EventData, *, key: uuid.UUID, source: str = "case-core") -> None:
        envelope = data.envelope(source=source, subject=str(getattr(data, "case_id", None) or key))
        await self.producer.publish(physical(data.topic, self.prefix), envelope, key=str(key))

    def stream(self, headers: dict[str, str] | None = None, **params: str) -> AbstractAsyncContextManager[StreamReader]:
        return open_stream(self.http, "/api/v1/stream", headers=headers, params=params)

    async def get(self, headers: dict[str, str] | None = None, **params: str) -> httpx.Response:
        return await self.http.get("/api/v1/stream", headers=headers, params=params)


@pytest.fixture
def stream_suite(
    database_url: str, kafka_bootstrap: str, suite_topics: str, upstream: Upstream
) -> Callable[..., AbstractAsyncContextManager[Suite]]:
    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[Suite]:
        settings = gateway_settings(
            database_url,
            upstream,
            stream_enabled=True,
            kafka_bootstrap_servers=kafka_bootstrap,
            topic_prefix=suite_topics,
            **overrides,
        )
        app = create_app(settings)
        producer = EventProducer(kafka_bootstrap, client_id="stream-test")
        await producer.start()
        try:
            async with serve_http(app) as url, httpx.AsyncClient(base_url=url) as client:
                suite = Suite(Gateway(client, app, settings), url, producer, suite_topics)
                await asyncio.wait_for(app.state.runtime.state.stream.ready.wait(), 30)
                try:
                    yield suite
                finally:
                    await suite.http.aclose()
        finally:
            await producer.stop()

    return start


def snapshot(case_id: uuid.UUID, requester_id: uuid.UUID | None = None, **fields: Any) -> CaseSnapshot:
    now = utcnow()
    values: dict[str, Any] = {
        "case_id": case_id,
        "number": 7,
        "subject": "Printer on fire",
        "status": "new",
        "priority": "normal",
        "channel": "email",
        "requester_id": requester_id,
        "tags": ["vip"],
        "custom_fields": {"internal_score": 9},
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }
    return CaseSnapshot(**{**values, **fields})


def created(case_id: uuid.UUID, requester_id: uuid.UUID | None = None, **fields: Any) -> CaseCreated:
    return CaseCreated(case=snapshot(case_id, requester_id, **fields), description="secret description")


def message(case: CaseSnapshot, *, public: bool) -> CaseMessageAdded:
    return CaseMessageAdded(
        case_id=case.case_id,
        message_id=uuid.uuid4(),
        direction="outbound",
        public=public,
        author="user:agent",
        author_role="agent",
        channel="email",
        case=case,
    )


def offer(case_id: uuid.UUID, agent_id: uuid.UUID, group_id: uuid.UUID) -> OfferCreated:
    now = utcnow()
    return OfferCreated(
        offer_id=uuid.uuid4(),
        case_id=case_id,
        agent_id=agent_id,
        group_id=group_id,
        expires_at=now + timedelta(seconds=30),
        created_at=now,
    )


def voice_status(agent_id: uuid.UUID) -> AgentVoiceStatusChanged:
    return AgentVoiceStatusChanged(
        agent_id=agent_id,
        status="busy",
        previous="available",
        call_id=uuid.uuid4(),
        reason="answered a call",
        changed_at=utcnow(),
    )


async def received(reader: StreamReader, count: int) -> list[ReceivedEvent]:
    return [await reader.next(within=15) for _ in range(count)]


async def test_an_agent_hears_every_case_and_sla_event_but_only_their_own_offers_and_voice_status(
    stream_suite: Callable[..., AbstractAsyncContextManager[Suite]],
) -> None:
    async with stream_suite() as suite:
        agent_id, other_agent = uuid.uuid4(), uuid.uuid4()
        _, headers = await suite.gateway.bearer("agent", agent_id=agent_id)
        case_id, group_id = uuid.uuid4(), uuid.uuid4()
        async with suite.stream(headers) as reader:
            assert reader.response.headers["content-type"].startswith("text/event-stream")
            await suite.publish(created(case_id), key=case_id)
            await suite.publish(
                SlaThresholdReached(
                    case_id=case_id, policy_id=uuid.uuid4(), milestone="first_reply", level="warning", due_at=utcnow()
                ),
                key=case_id,
                source="sla-engine",
            )
            # Same key, same partition: the other agent's offer is read before this agent's.
            await suite.publish(offer(case_id, other_agent, group_id), key=case_id, source="routing")
            await suite.publish(offer(case_id, agent_id, group_id), key=case_id, source="routing")
            # An agent's voice status (busy on a call) is theirs alone, as their offers are.
            await suite.publish(voice_status(other_agent), key=case_id, source="routing")
            await suite.publish(voice_status(agent_id), key=case_id, source="routing")
            events = await received(reader, 4)
            by_type = {event.event: event for event in events}
            assert set(by_type) == {
                "case.created",
                "sla.threshold_reached",
                "offer.created",
                "agent.voice_status_changed",
            }
            assert by_type["offer.created"].json()["data"]["agent_id"] == str(agent_id)
            assert by_type["agent.voice_status_changed"].json()["data"]["agent_id"] == str(agent_id)
            # Staff see the event whole, internal fields included.
            assert by_type["case.created"].json()["data"]["case"]["tags"] == ["vip"]
            assert all(event.id and event.id.startswith("v1.") for event in events)
            assert reader.parser.retry_ms == 3000


async def test_staff_hear_a_swarm_on_a_case_and_its_customer_never_does(
    stream_suite: Callable[..., AbstractAsyncContextManager[Suite]],
) -> None:
    async with stream_suite() as suite:
        contact_id, case_id, swarm_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        _, staff = await suite.gateway.bearer("agent", agent_id=uuid.uuid4())
        _, customer = await suite.gateway.bearer("end_user", contact_id=contact_id)
        started = SwarmStarted(
            swarm_id=swarm_id,
            case_id=case_id,
            started_by="user:owner",
            question="Why does MD01 come back?",
            urgency="high",
            started_at=utcnow(),
        )
        posted = SwarmMessagePosted(
            swarm_id=swarm_id,
            case_id=case_id,
            message_id=uuid.uuid4(),
            author="user:expert",
            mentions=[],
            source="slack",
            posted_at=utcnow(),
        )
        async with suite.stream(staff) as agent, suite.stream(customer) as requester:
            await suite.publish(created(case_id, contact_id), key=case_id)
            await suite.publish(started, key=case_id, source="collaboration")
            await suite.publish(posted, key=case_id, source="collaboration")
            await suite.publish(message(snapshot(case_id, contact_id), public=True), key=case_id)
            # Two topics: each keeps its order, not the other's.
            heard = {event.event: event for event in await received(agent, 4)}
            assert set(heard) == {"case.created", "swarm.started", "swarm.message_posted", "case.message_added"}
            assert heard["swarm.started"].json()["data"]["question"] == "Why does MD01 come back?"
            told = await received(requester, 2)
            assert [event.event for event in told] == ["case.created", "case.message_added"], "no swarm, ever"


async def test_staff_hear_a_call_on_a_case_ring_answer_and_end_and_its_customer_never_does(
    stream_suite: Callable[..., AbstractAsyncContextManager[Suite]],
) -> None:
    async with stream_suite() as suite:
        contact_id, case_id, call_id, channel_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        agent_id = uuid.uuid4()
        _, staff = await suite.gateway.bearer("agent", agent_id=agent_id)
        _, customer = await suite.gateway.bearer("end_user", contact_id=contact_id)
        now = utcnow()
        calls: list[EventData] = [
            CallStarted(
                call_id=call_id, call_sid="CA0001", channel_id=channel_id, direction="inbound",
                from_number="+14155550100", to_number="+14155550199", brand="acme", case_id=case_id, started_at=now,
            ),
            CallAnswered(
                call_id=call_id, channel_id=channel_id, direction="inbound", answered_by=f"user:{agent_id}",
                case_id=case_id, answered_at=now + timedelta(seconds=12), wait_seconds=12,
            ),
            CallEnded(
                call_id=call_id, channel_id=channel_id, direction="inbound", status="completed",
                duration_seconds=75, case_id=case_id, started_at=now, ended_at=now + timedelta(seconds=75),
            ),
        ]  # fmt: skip
        async with (
            suite.stream(staff) as agent,
            suite.stream(staff, types="call.started,call.ended", case_id=str(case_id)) as filtered,
            suite.stream(customer) as requester,
        ):
            await suite.publish(created(case_id, contact_id), key=case_id)
            for event in calls:
                # voice.events is keyed by the call, as intake-web publishes it.
                await suite.publish(event, key=call_id, source="intake-web")
            heard = {event.event: event.json()["data"] for event in await received(agent, 4)}
            assert set(heard) == {"case.created", "call.started", "call.answered", "call.ended"}
            assert heard["call.answered"]["answered_by"] == f"user:{agent_id}"
            assert heard["call.started"]["from_number"] == "+14155550100"
            assert heard["call.ended"]["duration_seconds"] == 75
            assert [event.event for event in await received(filtered, 2)] == ["call.started", "call.ended"]
            # The feed had written the call's events to every stream before this message was
            # published (the agent heard them), so a call event told the customer would come first.
            await suite.publish(message(snapshot(case_id, contact_id), public=True), key=case_id)
            told = await received(requester, 2)
            assert [event.event for event in told] == ["case.created", "case.message_added"], "no call event, ever"


async def test_staff_hear_a_satisfaction_rating_and_the_customer_who_gave_it_does_not(
    stream_suite: Callable[..., AbstractAsyncContextManager[Suite]],
) -> None:
    async with stream_suite() as suite:
        contact_id, case_id = uuid.uuid4(), uuid.uuid4()
        _, staff = await suite.gateway.bearer("agent", agent_id=uuid.uuid4())
        _, customer = await suite.gateway.bearer("end_user", contact_id=contact_id)
        rated = CaseSatisfactionRated(
            case_id=case_id,
            version=2,
            survey_id=uuid.uuid4(),
            rating="bad",
            reason="Too slow",
            rated_at=utcnow(),
            case=snapshot(case_id, contact_id, status="solved", version=2),
        )
        async with suite.stream(staff) as agent, suite.stream(customer) as requester:
            await suite.publish(rated, key=case_id)
            await suite.publish(created(case_id, contact_id), key=case_id)
            [heard, _] = await received(agent, 2)
            assert heard.event == "case.satisfaction_rated"
            assert (heard.json()["data"]["rating"], heard.json()["data"]["reason"]) == ("bad", "Too slow")
            [told] = await received(requester, 1)
            assert told.event == "case.created", "the rating is the desk's business, not shown back"


async def test_filters_narrow_the_stream_to_types_cases_and_groups(
    stream_suite: Callable[..., AbstractAsyncContextManager[Suite]],
) -> None:
    async with stream_suite() as suite:
        _, headers = await suite.gateway.bearer("admin")
        watched, other, group_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        async with (
            suite.stream(headers, types="case.updated", case_id=str(watched)) as by_case,
            suite.stream(headers, group_id=str(group_id)) as by_group,
        ):
            for case_id in (other, watched):
                await suite.publish(created(case_id, group_id=group_id), key=watched)
                await suite.publish(
                    CaseUpdated(
                        case_id=case_id,
                        version=2,
                        changes={"status": FieldChange(old="new", new="open")},
                        actor="user:x",
                        case=snapshot(case_id, status="open", version=2, group_id=group_id),
                    ),
                    key=watched,
                )
            await suite.publish(created(uuid.uuid4()), key=watched)  # no group
            only = await by_case.next(within=15)
            assert (only.event, only.json()["data"]["case_id"]) == ("case.updated", str(watched))
            in_group = await received(by_group, 4)
            assert {event.json()["data"]["case"]["group_id"] for event in in_group} == {str(group_id)}
            with pytest.raises(TimeoutError):
                await by_case.next(within=1.0)
            with pytest.raises(TimeoutError):
                await by_group.next(within=1.0)


async def test_a_customer_hears_their_own_cases_public_side_and_nothing_of_anyone_else(
    stream_suite: Callable[..., AbstractAsyncContextManager[Suite]],
) -> None:
    async with stream_suite() as suite:
        contact_id, stranger = uuid.uuid4(), uuid.uuid4()
        _, headers = await suite.gateway.bearer("end_user", contact_id=contact_id)
        mine, theirs = uuid.uuid4(), uuid.uuid4()
        my_case = snapshot(mine, contact_id)
        async with suite.stream(headers) as reader:
            # One key for all: one partition, so the last event proves every earlier one was read.
            await suite.publish(created(theirs, stranger), key=mine)
            await suite.publish(message(snapshot(theirs, stranger), public=True), key=mine)
            await suite.publish(created(mine, contact_id), key=mine)
            await suite.publish(message(my_case, public=False), key=mine)
            await suite.publish(
                SlaThresholdReached(
                    case_id=mine, policy_id=uuid.uuid4(), milestone="first_reply", level="breach", due_at=utcnow()
                ),
                key=mine,
                source="sla-engine",
            )
            await suite.publish(
                CaseUpdated(
                    case_id=mine,
                    version=2,
                    changes={"tags": FieldChange(old=[], new=["vip"])},
                    actor="user:x",
                    case=my_case,
                ),
                key=mine,
            )
            await suite.publish(
                CaseUpdated(
                    case_id=mine,
                    version=3,
                    changes={"status": FieldChange(old="new", new="solved")},
                    actor="user:x",
                    case=snapshot(mine, contact_id, status="solved", version=3),
                ),
                key=mine,
            )
            public = message(my_case, public=True)
            await suite.publish(public, key=mine)
            events = await received(reader, 3)
            assert [event.event for event in events] == ["case.created", "case.updated", "case.message_added"]
            assert {event.json()["data"]["case"]["case_id"] for event in events} == {str(mine)}
            assert events[1].json()["data"]["changed"] == ["status"]
            assert events[2].json()["data"]["message"]["message_id"] == str(public.message_id)
            # What a customer is shown of their case is what their own API answers show: no internals.
            shown = events[0].json()["data"]["case"]
            assert set(shown) == {"case_id", "number", "subject", "status", "updated_at"}
            assert "secret description" not in events[0].data
            with pytest.raises(TimeoutError):
                await reader.next(within=1.0)


async def test_a_reconnect_with_last_event_id_resumes_exactly_where_it_stopped(
    stream_suite: Callable[..., AbstractAsyncContextManager[Suite]],
) -> None:
    async with stream_suite() as suite:
        _, headers = await suite.gateway.bearer("agent")
        cases = [uuid.uuid4() for _ in range(6)]
        async with suite.stream(headers) as reader:
            await suite.publish(created(cases[0]), key=cases[0])
            first = await reader.next(within=15)
        assert first.id is not None
        # While the console is away: events on several partitions.
        for case_id in cases[1:]:
            await suite.publish(created(case_id), key=case_id)
        await asyncio.sleep(1.0)
        async with suite.stream({**headers, "Last-Event-ID": first.id}) as resumed:
            missed = await received(resumed, 5)
            assert sorted(event.json()["data"]["case"]["case_id"] for event in missed) == sorted(map(str, cases[1:]))
            with pytest.raises(TimeoutError):
                await resumed.next(within=1.0)
            await suite.publish(created(cases[0], subject="after"), key=cases[0])
            live = await resumed.next(within=15)
            assert live.json()["data"]["case"]["subject"] == "after"
        # A new EventSource cannot set the header: the query parameter does the same.
        async with suite.stream(headers, last_event_id=missed[-1].id or "") as again:
            replayed = await received(again, 1)
            assert replayed[0].id != missed[-1].id


async def test_a_resume_from_before_the_history_starts_with_a_reset(
    stream_suite: Callable[..., AbstractAsyncContextManager[Suite]],
) -> None:
    first, later = uuid.uuid4(), uuid.uuid4()
    async with stream_suite() as suite:
        await suite.publish(created(first), key=first)
    # A gateway that keeps no history: its stream starts at the end of every partition.
    async with stream_suite(stream_history_seconds=0) as suite:
        _, headers = await suite.gateway.bearer("agent")
        long_ago = positions.encode({(0, partition): 0 for partition in range(4)})
        async with suite.stream({**headers, "Last-Event-ID": long_ago}) as reader:
            reset = await reader.next(within=15)
            assert (reset.event, reset.json()) == ("reset", {"reason": "history_gap"})
            await suite.publish(created(later), key=later)
            live = await reader.next(within=15)
            assert live.json()["data"]["case"]["case_id"] == str(later)


async def test_a_ticket_opens_the_stream_for_event_source_and_nothing_else(
    stream_suite: Callable[..., AbstractAsyncContextManager[Suite]],
) -> None:
    async with stream_suite(stream_heartbeat_seconds=0.3) as suite:
        _, headers = await suite.gateway.bearer("agent")
        answer = await suite.http.post("/api/v1/stream/tickets", headers=headers)
        assert answer.status_code == 201, answer.text
        assert answer.headers["cache-control"] == "no-store"
        ticket = answer.json()["ticket"]
        async with suite.stream(ticket=ticket) as reader:
            case_id = uuid.uuid4()

            # Heartbeats keep the idle stream talking (waited for, not timed: a busy host may
            # run the gateway's loop late, and a fixed second once saw a single comment).
            async def talking() -> bool:
                return reader.parser.comments >= 2

            await eventually(talking, within=15, message="two heartbeat comments on the idle stream")
            await suite.publish(created(case_id), key=case_id)
            event = await reader.next(within=15)
            assert event.json()["data"]["case"]["case_id"] == str(case_id)

        # A ticket is not a bearer token, nor a bearer token a ticket.
        refused = await suite.http.get("/api/v1/cases", headers={"Authorization": f"Bearer {ticket}"})
        assert refused.status_code == 401
        access_token = headers["Authorization"].removeprefix("Bearer ")
        as_ticket = await suite.get({"Accept": "text/event-stream"}, ticket=access_token)
        assert as_ticket.status_code == 401
        assert as_ticket.headers["content-type"] == "application/problem+json"
        forged = ticket[:-4] + ("AAAA" if not ticket.endswith("AAAA") else "BBBB")
        assert (await suite.get({"Accept": "text/event-stream"}, ticket=forged)).status_code == 401
        assert (await suite.get({"Accept": "text/event-stream"})).status_code == 401


async def test_bad_stream_requests_get_a_clear_problem(
    stream_suite: Callable[..., AbstractAsyncContextManager[Suite]],
) -> None:
    async with stream_suite() as suite:
        _, headers = await suite.gateway.bearer("agent")
        sse = {**headers, "Accept": "text/event-stream"}
        not_sse = await suite.get(headers)
        assert not_sse.status_code == 406
        assert not_sse.json()["type"].endswith("not-acceptable")
        unknown = await suite.get(sse, types="case.updated,case.exploded")
        assert unknown.status_code == 422
        assert "case.exploded" in unknown.json()["detail"]
        bad_id = await suite.get({**sse, "Last-Event-ID": "42"})
        assert bad_id.status_code == 422
        assert (await suite.get(sse, case_id="not-a-uuid")).status_code == 422
        _, admin = await suite.gateway.bearer("admin")
        api_token = await suite.http.post(
            "/api/v1/api-tokens", headers=admin, json={"name": "no cases", "scopes": ["routing:read"]}
        )
        assert api_token.status_code == 201, api_token.text
        token = {"Authorization": f"Bearer {api_token.json()['token']}", "Accept": "text/event-stream"}
        assert (await suite.get(token)).status_code == 403


async def test_the_stream_is_unavailable_while_switched_off(gateway: Gateway) -> None:
    _, headers = await gateway.bearer("agent")
    answer = await gateway.client.get("/api/v1/stream", headers={**headers, "Accept": "text/event-stream"})
    assert answer.status_code == 503
    assert "switched off" in answer.json()["detail"]


async def test_a_stream_resumes_on_another_replica_which_reads_history_back_at_start(
    stream_suite: Callable[..., AbstractAsyncContextManager[Suite]],
) -> None:
    cases = [uuid.uuid4() for _ in range(4)]
    async with stream_suite() as first_replica:
        _, headers = await first_replica.gateway.bearer("agent")
        async with first_replica.stream(headers) as reader:
            await first_replica.publish(created(cases[0]), key=cases[0])
            last_seen = await reader.next(within=15)
        for case_id in cases[1:]:
            await first_replica.publish(created(case_id), key=case_id)
    # The first replica is gone; one started after the events resumes the console all the same.
    async with stream_suite() as second_replica:
        headers = {"Authorization": headers["Authorization"], "Last-Event-ID": last_seen.id or ""}
        async with second_replica.stream(headers) as resumed:
            missed = await received(resumed, 3)
            assert sorted(event.json()["data"]["case"]["case_id"] for event in missed) == sorted(map(str, cases[1:]))
            with pytest.raises(TimeoutError):
                await resumed.next(within=1.0)


async def test_without_a_broker_the_stream_is_a_503_to_retry_and_every_other_route_works(
    database_url: str, upstream: Upstream
) -> None:
    settings = gateway_settings(
        database_url,
        upstream,
        stream_enabled=True,
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
    )
    app = create_app(settings)
    async with serve_http(app) as url, httpx.AsyncClient(base_url=url) as client:
        gateway = Gateway(client, app, settings)
        _, headers = await gateway.bearer("agent")
        answer = await client.get("/api/v1/stream", headers={**headers, "Accept": "text/event-stream"})
        assert answer.status_code == 503
        assert answer.headers["retry-after"] == "5"
        assert "still starting" in answer.json()["detail"]
        me = await client.get("/api/v1/auth/me", headers=headers)
        assert me.status_code == 200
