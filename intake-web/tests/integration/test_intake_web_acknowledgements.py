"""End-to-end acknowledgement: case-core's events confirm submissions; unconfirmed ones are sent again."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from omnicase.devtools.testing.plugin import eventually
from omnicase.devtools.testing.probes import of_intake_messages, read_topic
from omnicase.kit.bus.producer import EventProducer
from omnicase.kit.clock import utcnow
from omnicase.kit.events import (
    CaseCreated,
    CaseSnapshot,
    Envelope,
    HeldMessageKept,
    HoldReason,
    MessageHeld,
    MessageReceived,
)
from omnicase.kit.topics import Topic, physical

pytestmark = pytest.mark.asyncio

API = {"Accept": "application/json"}


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
        suggest_articles=True,
    )
    quiet_form = await service.form(auto_response=False, suggest_articles=True)
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
    records = await read_topic(
        kafka_bootstrap,
        physical(Topic.INTAKE_MESSAGES, prefix),
        expect=2,
        within=10,
        keep=of_intake_messages(submission_id, quiet_id),
    )
    sent = {str(m.intake_id): m for m in (MessageReceived.parse(Envelope.from_bytes(r.value)) for r in records)}
    asked = sent[submission_id].metadata
    assert asked["auto_response"] is True
    assert asked["auto_response_template"] == {
        "subject": "Demande #{{case.number}} reçue",
        "text": "Bonjour {{requester.name}}, nous traitons « {{case.subject}} ».",
    }
    assert asked["suggest_articles"] is True, "the acknowledgement lists suggested articles"
    assert "auto_response" not in sent[quiet_id].metadata
    assert "suggest_articles" not in sent[quiet_id].metadata, "no acknowledgement, no articles"

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
    records = await read_topic(kafka_bootstrap, topic, expect=2, within=15, keep=of_intake_messages(submission_id))
    copies = [MessageReceived.parse(Envelope.from_bytes(record.value)) for record in records]
    assert len(copies) >= 2
    assert {str(copy.intake_id) for copy in copies} == {submission_id}


async def test_confirmations_published_while_intake_web_is_down_settle_its_submissions_once_it_is_back(
    start_service: Any, producer: EventProducer
) -> None:
    """case-core confirms what intake-web sent while intake-web is down: the instance that comes
    back reads those events from its group's committed offset, so each submission is confirmed by
    them, not by a republish (an hour away here). The first instance is stopped here; the kit's
    consumer tests show the same for a member killed without leaving its group."""
    first = await start_service(republish_after_seconds=3600)
    topic = physical(Topic.CASE_EVENTS, first.settings.topic_prefix)

    # One key for every confirmation: all on the partition whose offset the group commits first.
    key = str(uuid.uuid4())

    async def confirm(submission_id: str, number: int) -> str:
        created = _case_created(submission_id, number)
        envelope = created.envelope(source="case-core", subject=str(created.case.case_id))
        await producer.publish(topic, envelope, key=key)
        return str(created.case.case_id)

    async def states(service: Any, form_id: str) -> dict[str, tuple[str, str | None, int]]:
        items = await service.submissions(form_id)
        return {item["id"]: (item["status"], item["case_id"], item["published_count"]) for item in items}

    form = await first.form()
    early, *later = [await _submit(first, form) for _ in range(4)]
    # The group has read and committed an acknowledgement before it goes down.
    early_case = await confirm(early, 1)

    async def early_confirmed() -> bool:
        return (await states(first, form["id"]))[early][0] == "acknowledged"

    await eventually(early_confirmed, within=30, message="the first instance confirmed the early submission")
    await first.stop()

    cases = {submission_id: await confirm(submission_id, 2 + n) for n, submission_id in enumerate(later)}
    again = await start_service(republish_after_seconds=3600)

    async def all_confirmed() -> bool:
        return all(status == "acknowledged" for status, _, _ in (await states(again, form["id"])).values())

    await eventually(all_confirmed, within=30, message="the confirmations published while it was down applied")
    assert await states(again, form["id"]) == {
        early: ("acknowledged", early_case, 1),
        **{submission_id: ("acknowledged", case_id, 1) for submission_id, case_id in cases.items()},
    }


async def test_held_spam_is_sent_until_case_core_keeps_it_and_settled_by_the_case_it_is_recovered_into(
    start_service: Any, producer: EventProducer, kafka_bootstrap: str
) -> None:
    service = await start_service(republish_after_seconds=0.3, republish_interval_seconds=0.2)
    form = await service.form()
    bait = service.valid_fields(form["id"], website="http://spam.example")
    answer = await service.public.post(f"/public/forms/{form['id']}/submissions", data=bait, headers=API)
    assert answer.status_code == 202, answer.text
    held_id = answer.json()["submission_id"]
    prefix = service.settings.topic_prefix

    topic = physical(Topic.INTAKE_MESSAGES, prefix)
    copies: list[Envelope] = []
    for _ in range(30):  # until it was published again (every 0.2 s once 0.3 s old)
        records = await read_topic(kafka_bootstrap, topic, expect=1, within=15)
        copies = [envelope for r in records if (envelope := Envelope.from_bytes(r.value)).subject == held_id]
        if len(copies) >= 2:
            break
        await asyncio.sleep(0.5)
    assert len(copies) >= 2, "published again until case-core keeps it"
    assert {envelope.type for envelope in copies} == {"intake.message_held"}, "never handed on as a case"
    held = MessageHeld.parse(copies[0])
    assert (str(held.message.intake_id), held.reason) == (held_id, HoldReason.SPAM)
    assert "website" in held.detail
    assert "http://spam.example" in held.detail

    kept = HeldMessageKept(source_intake_id=uuid.UUID(held_id))
    await producer.publish(
        physical(Topic.CASE_EVENTS, prefix), kept.envelope(source="case-core", subject=held_id), key=held_id
    )

    async def settled_as_held() -> bool:
        [item] = await service.submissions(form["id"])
        return item["acknowledged_at"] is not None

    await eventually(settled_as_held, message="case-core keeping it acknowledged the held submission")
    [item] = await service.submissions(form["id"])
    assert item["status"] == "held"
    published = item["published_count"]
    await asyncio.sleep(1)  # five republication rounds
    [item] = await service.submissions(form["id"])
    assert item["published_count"] == published, "a kept message is not published again"

    # Staff recovered it: its case settles it like any other submission.
    created = _case_created(held_id, 77)
    await producer.publish(
        physical(Topic.CASE_EVENTS, prefix),
        created.envelope(source="case-core", subject=str(created.case.case_id)),
        key=str(created.case.case_id),
    )

    async def recovered() -> bool:
        [item] = await service.submissions(form["id"])
        return bool(item["status"] == "acknowledged")

    await eventually(recovered, message="the recovered case settled the held submission")
    [item] = await service.submissions(form["id"])
    assert item["case_id"] == str(created.case.case_id)
