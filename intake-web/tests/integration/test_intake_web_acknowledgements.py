"""End-to-end acknowledgement: case-core's events confirm submissions; unconfirmed ones are sent again."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from omnicase.kit.bus.producer import EventProducer
from omnicase.kit.clock import utcnow
from omnicase.kit.events import CaseCreated, CaseSnapshot, Envelope, MessageReceived
from omnicase.kit.testing.plugin import eventually
from omnicase.kit.testing.probes import read_topic
from omnicase.kit.topics import Topic, physical

pytestmark = pytest.mark.asyncio

API = {"Accept": "application/json"}


@pytest_asyncio.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[EventProducer]:
    producer = EventProducer(kafka_bootstrap, client_id="test")
    await producer.start()
    yield producer
    await producer.stop()


def _case_created(intake_id: str, number: int) -> CaseCreated:
    now = utcnow()
    snapshot = CaseSnapshot(
        case_id=uuid.uuid4(),
        number=number,
        subject="Invoice is wrong",
        status="new",
        priority="high",
        channel="web",
        created_at=now,
        updated_at=now,
        version=1,
    )
    return CaseCreated(case=snapshot, source_intake_id=uuid.UUID(intake_id), actor="case-core")


async def _submit(service: Any, form: dict[str, Any]) -> str:
    response = await service.public.post(
        f"/public/forms/{form['id']}/submissions", data=service.valid_fields(form["id"]), headers=API
    )
    assert response.status_code == 202, response.text
    submission_id: str = response.json()["submission_id"]
    return submission_id


async def test_a_created_case_acknowledges_the_submission_which_asked_case_core_for_the_auto_response(
    service: Any, producer: EventProducer, kafka_bootstrap: str
) -> None:
    form = await service.form(
        auto_response_subject={"fr": "Demande #{{case_number}} reçue", "en": "Request #{{case_number}} received"},
        auto_response_text={"fr": "Bonjour {{name}}, nous traitons « {{subject}} »."},
    )
    quiet_form = await service.form(auto_response=False)
    response = await service.public.post(
        f"/public/forms/{form['id']}/submissions",
        data=service.valid_fields(form["id"], _locale="fr"),
        headers=API,
    )
    assert response.status_code == 202, response.text
    submission_id = response.json()["submission_id"]
    quiet_id = await _submit(service, quiet_form)
    prefix = service.settings.topic_prefix

    # The submission asks case-core for the acknowledgement, in the submitter's language and
    # the shared placeholders case-core renders (with the case's reference, so replies thread).
    records = await read_topic(kafka_bootstrap, physical(Topic.INTAKE_MESSAGES, prefix), expect=2, within=10)
    sent = {str(m.intake_id): m for m in (MessageReceived.parse(Envelope.from_bytes(r.value)) for r in records)}
    asked = sent[submission_id].metadata
    assert asked["auto_response"] is True
    assert asked["auto_response_template"] == {
        "subject": "Demande #{{case.number}} reçue",
        "text": "Bonjour {{requester.name}}, nous traitons « {{case.subject}} ».",
    }
    assert "auto_response" not in sent[quiet_id].metadata

    created = _case_created(submission_id, 42)
    envelope = created.envelope(source="case-core", subject=str(created.case.case_id))
    for _ in range(2):  # redelivered: acknowledged once
        await producer.publish(physical(Topic.CASE_EVENTS, prefix), envelope, key=str(created.case.case_id))
    quiet = _case_created(quiet_id, 43)
    await producer.publish(
        physical(Topic.CASE_EVENTS, prefix),
        quiet.envelope(source="case-core", subject=str(quiet.case.case_id)),
        key=str(quiet.case.case_id),
    )

    async def acknowledged() -> bool:
        items = await service.submissions(form["id"]) + await service.submissions(quiet_form["id"])
        return all(item["status"] == "acknowledged" for item in items)

    await eventually(acknowledged, message="both submissions acknowledged")
    [stored] = await service.submissions(form["id"])
    assert stored["case_id"] == str(created.case.case_id)
    assert stored["acknowledged_at"] is not None
    assert stored["published_count"] == 1, "confirmed by its first publication"
    # intake-web writes no email of its own: the acknowledgement is case-core's.
    assert await read_topic(kafka_bootstrap, physical(Topic.OUTBOUND_MESSAGES, prefix), expect=0, within=2) == []


async def test_a_submission_case_core_never_confirms_is_published_again(
    start_service: Any, kafka_bootstrap: str
) -> None:
    service = await start_service(republish_after_seconds=0.3, republish_interval_seconds=0.2)
    form = await service.form()
    submission_id = await _submit(service, form)
    topic = physical(Topic.INTAKE_MESSAGES, service.settings.topic_prefix)
    records = await read_topic(kafka_bootstrap, topic, expect=2, within=15)
    copies = [MessageReceived.parse(Envelope.from_bytes(record.value)) for record in records]
    assert len(copies) >= 2
    assert {str(copy.intake_id) for copy in copies} == {submission_id}
