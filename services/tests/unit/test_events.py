"""Event contracts: envelopes round-trip, unknown types are refused, ids sort by time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from omnicase.kit.clock import ManualClock, set_clock
from omnicase.kit.events import (
    EVENT_TYPES,
    CaseCreated,
    CaseSnapshot,
    CaseStatus,
    Channel,
    Envelope,
    Priority,
    UnknownEventType,
)
from omnicase.kit.ids import uuid7
from omnicase.kit.topics import Topic, all_topic_names


def test_envelope_round_trips_with_typed_data() -> None:
    now = datetime.now(UTC)
    case = CaseSnapshot(
        case_id=uuid.uuid4(),
        number=7,
        subject="Printer on fire",
        status=CaseStatus.NEW,
        priority=Priority.URGENT,
        channel=Channel.EMAIL,
        created_at=now,
        updated_at=now,
        version=1,
    )
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
