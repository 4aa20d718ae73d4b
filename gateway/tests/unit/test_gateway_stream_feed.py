"""The stream's pieces without a broker: ids, a slow client's end, what each viewer is shown."""

from __future__ import annotations

import uuid

import pytest

from omnicase.gateway.identity.principal import ROLE_SCOPES, Principal
from omnicase.gateway.stream import positions
from omnicase.gateway.stream.events import CaseFacts, StreamEvent
from omnicase.gateway.stream.feed import Subscriber
from omnicase.gateway.stream.viewers import Viewer


def event(offset: int, *, partition: int = 0, kind: str = "case.updated", **fields: object) -> StreamEvent:
    values: dict[str, object] = {
        "topic": 0,
        "partition": partition,
        "offset": offset,
        "read": {(0, partition): offset + 1},
        "type": kind,
        "case_id": uuid.uuid4(),
        "facts": None,
        "group_id": None,
        "offered_to": None,
        "staff_data": "{}",
        "customer_data": None,
    }
    values.update(fields)
    return StreamEvent(**values)  # type: ignore[arg-type]


def test_an_event_id_names_every_partition_and_garbage_names_none() -> None:
    where = {(0, 0): 12, (0, 3): 0, (2, 1): 99_999_999}
    assert positions.decode(positions.encode(where)) == where
    for garbage in ("", "v1.", "v1.!!!", "v2.e30", "v1." + "A" * 9000, "v1.eyJ4IjoxfQ", "v1.eyIwOjAiOi0xfQ"):
        assert positions.decode(garbage) is None, garbage


def test_a_client_that_falls_behind_is_ended_not_waited_for() -> None:
    subscriber = Subscriber(lambda _: True, floor={}, limit=10)
    for offset in range(10):
        subscriber.offer(event(offset))
    assert not subscriber.ended
    subscriber.offer(event(10))
    assert subscriber.lagging
    assert subscriber.ended
    subscriber.offer(event(11))
    queued = [subscriber.queue.get_nowait() for _ in range(subscriber.queue.qsize())]
    assert [item.offset if item else None for item in queued] == [*range(10), None]


def test_events_before_a_clients_floor_are_not_sent_again() -> None:
    subscriber = Subscriber(lambda _: True, floor={(0, 0): 5, (0, 1): 2}, limit=100)
    for partition, offset in [(0, 4), (0, 5), (1, 1), (1, 2)]:
        subscriber.offer(event(offset, partition=partition))
    sent = [subscriber.queue.get_nowait() for _ in range(subscriber.queue.qsize())]
    assert [(item.partition, item.offset) for item in sent if item] == [(0, 5), (1, 2)]


def person(role: str, **fields: object) -> Principal:
    return Principal(
        subject=uuid.uuid4(),
        kind="user",
        role=role,  # type: ignore[arg-type]
        scopes=ROLE_SCOPES[role],  # type: ignore[index]
        name=role,
        **fields,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("organization_cases", [False, True])
def test_a_customer_sees_their_own_or_their_organizations_cases_only(organization_cases: bool) -> None:
    contact, organization = uuid.uuid4(), uuid.uuid4()
    viewer = Viewer(
        person("end_user", contact_id=contact, organization_id=organization, organization_cases=organization_cases)
    )
    own = CaseFacts(contact, organization, None, None)
    colleague = CaseFacts(uuid.uuid4(), organization, None, None)
    stranger = CaseFacts(uuid.uuid4(), uuid.uuid4(), None, None)
    assert viewer.sees(event(1, facts=own, customer_data="{}"))
    assert viewer.sees(event(2, facts=colleague, customer_data="{}")) is organization_cases
    assert not viewer.sees(event(3, facts=stranger, customer_data="{}"))
    assert not viewer.sees(event(4, facts=own, customer_data=None)), "an internal note or SLA event"


def test_an_agent_sees_their_own_offers_and_an_admin_every_offer() -> None:
    agent_id = uuid.uuid4()
    mine = event(1, kind="offer.created", offered_to=agent_id)
    theirs = event(2, kind="offer.created", offered_to=uuid.uuid4())
    agent = Viewer(person("agent", agent_id=agent_id))
    admin = Viewer(person("admin"))
    assert agent.sees(mine)
    assert not agent.sees(theirs)
    assert admin.sees(mine)
    assert admin.sees(theirs)
    assert not Viewer(person("light_agent")).sees(theirs)
