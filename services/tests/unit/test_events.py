"""Event contracts: envelopes round-trip, unknown types are refused, ids sort by time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from omnicase.devtools.testing.clock import ManualClock
from omnicase.kit.bus.producer import INTAKE_CHANNEL_HEADER, envelope_headers
from omnicase.kit.clock import set_clock
from omnicase.kit.events import (
    EVENT_TYPES,
    CaseCreated,
    CaseMessageAdded,
    CaseSnapshot,
    CaseStatus,
    Channel,
    Envelope,
    OutboundMessageRequested,
    Priority,
    UnknownEventType,
)
from omnicase.kit.ids import uuid7
from omnicase.kit.topics import Topic
from omnicase.ops.topics import all_topic_names


def _snapshot(channel: Channel) -> CaseSnapshot:
    now = datetime.now(UTC)
    return CaseSnapshot(
        case_id=uuid.uuid4(),
        number=7,
        subject="Printer on fire",
        status=CaseStatus.NEW,
        priority=Priority.URGENT,
        channel=channel,
        created_at=now,
        updated_at=now,
        version=1,
    )


def test_envelope_round_trips_with_typed_data() -> None:
    case = _snapshot(Channel.EMAIL)
    data = CaseCreated(case=case, description="It is really on fire.")
    envelope = data.envelope(source="case-core", subject=str(case.case_id))
    decoded = Envelope.from_bytes(envelope.to_bytes())
    assert decoded == envelope
    assert decoded.payload() == data
    assert decoded.type == "case.created"
    assert decoded.schema_version == 1
    assert decoded.trace_id


def test_unknown_type_or_version_is_refused_not_guessed() -> None:
    envelope = Envelope(
        id=uuid7(), type="case.created", source="x", subject="s", time=datetime.now(UTC), schema_version=99, data={}
    )
    with pytest.raises(UnknownEventType, match=r"case\.created v99"):
        envelope.payload()


def test_contract_rejects_unknown_fields() -> None:
    with pytest.raises(ValidationError, match="surprise"):
        CaseCreated.model_validate({"description": "x", "surprise": True})


def test_every_contract_names_a_suite_topic() -> None:
    names = set(all_topic_names())
    for model in EVENT_TYPES.values():
        assert model.topic in set(Topic)
        assert model.topic.value in names


def test_uuid7_sorts_by_clock_time() -> None:
    clock = ManualClock(datetime(2026, 3, 1, tzinfo=UTC))
    previous = set_clock(clock)
    try:
        first = uuid7()
        clock._now += timedelta(milliseconds=5)
        second = uuid7()
    finally:
        set_clock(previous)
    assert first.version == 7
    assert second > first


def test_acknowledgements_and_replies_name_the_intake_they_are_for_in_a_header() -> None:
    """Each intake skips the records of the others' channels before decoding them (no claim, no transaction)."""
    case = _snapshot(Channel.WEB)

    def intake_channel(data: CaseCreated | CaseMessageAdded | OutboundMessageRequested) -> str | None:
        headers = dict(envelope_headers(data.envelope(source="case-core", subject=str(case.case_id))))
        value = headers.get(INTAKE_CHANNEL_HEADER)
        return None if value is None else value.decode()

    assert intake_channel(CaseCreated(case=case, source_intake_id=uuid.uuid4())) == "web"
    assert intake_channel(CaseCreated(case=case)) is None, "a case opened through the API is every consumer's"
    message = CaseMessageAdded(
        case_id=case.case_id,
        message_id=uuid.uuid4(),
        direction="inbound",
        public=True,
        author="contact:1",
        channel=Channel.EMAIL,
        source_intake_id=uuid.uuid4(),
    )
    assert intake_channel(message) == "email"
    assert intake_channel(message.model_copy(update={"source_intake_id": None})) is None
    reply = OutboundMessageRequested(
        outbound_id=uuid.uuid4(), case_id=case.case_id, channel=Channel.SMS, to=[], text="On its way."
    )
    assert intake_channel(reply) == "sms"
