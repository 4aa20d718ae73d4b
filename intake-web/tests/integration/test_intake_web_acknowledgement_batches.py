"""A batch of case events settles its submissions with one statement, whatever its size."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from omnicase.devtools.testing.database import database_work
from omnicase.intake_web.consumers import IntakeWebConsumer
from omnicase.intake_web.widget.hub import ConversationHub
from omnicase.kit.bus.batch import Received
from omnicase.kit.clock import utcnow
from omnicase.kit.events import CaseCreated, CaseMessageAdded, CaseSnapshot, EventData

pytestmark = pytest.mark.asyncio

API = {"Accept": "application/json"}


def _snapshot(number: int) -> CaseSnapshot:
    now = utcnow()
    return CaseSnapshot(
        case_id=uuid.uuid4(), number=number, subject="Invoice is wrong", status="new", priority="high",
        channel="web", created_at=now, updated_at=now, version=1,
    )  # fmt: skip


def _received(data: EventData) -> Received[EventData]:
    return Received(data.envelope(source="case-core", subject=str(uuid.uuid4())), data)


async def _handle_counting(service: Any, batch: list[Received[EventData]]) -> int:
    with database_work(service.app.state.database.engine) as work:
        async with service.app.state.database.unit_of_work() as session:
            await IntakeWebConsumer(ConversationHub()).handle(session, batch)
    return len([statement for statement in work.statements if "inbound_messages" in statement])


@pytest.mark.parametrize("size", [1, 5])
async def test_a_batch_of_case_events_acknowledges_its_submissions_in_one_statement(service: Any, size: int) -> None:
    form = await service.form()
    url = f"/public/forms/{form['id']}/submissions"
    ids = []
    for _ in range(size):
        response = await service.public.post(url, data=service.valid_fields(form["id"]), headers=API)
        assert response.status_code == 202, response.text
        ids.append(uuid.UUID(response.json()["submission_id"]))
    created = [CaseCreated(case=_snapshot(n), source_intake_id=i, actor="case-core") for n, i in enumerate(ids)]
    # The first confirmation of a message wins; a later one (or one for another intake) changes nothing.
    later = CaseMessageAdded(
        case_id=uuid.uuid4(), message_id=uuid.uuid4(), direction="inbound", public=True, author="contact:1",
        channel="web", source_intake_id=ids[0],
    )  # fmt: skip
    foreign = CaseCreated(case=_snapshot(99), source_intake_id=uuid.uuid4(), actor="case-core")
    batch = [_received(data) for data in [*created, later, foreign]]

    assert await _handle_counting(service, batch) == 1

    stored = {item["id"]: item for item in await service.submissions(form["id"])}
    for confirmation in created:
        item = stored[str(confirmation.source_intake_id)]
        assert (item["status"], item["case_id"]) == ("acknowledged", str(confirmation.case.case_id))
