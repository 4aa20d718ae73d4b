"""What a batch of inbound messages costs the database: a few statements per message, and
the configuration (triggers, webhooks, auto-response template) read once per batch."""

from __future__ import annotations

import uuid

import pytest

from omnicase.case_core.intake.consumer import IntakeConsumer
from omnicase.case_core.testing import inbound_email
from omnicase.case_core.wiring import Services
from omnicase.kit.bus.batch import Received
from omnicase.kit.db import Database
from omnicase.kit.testing.database import database_work

pytestmark = pytest.mark.asyncio


async def _new_emails(db: Database, intake: IntakeConsumer, count: int) -> list[str]:
    batch = []
    for _ in range(count):
        message = inbound_email(f"{uuid.uuid4().hex[:12]}@customers.example")
        batch.append(Received(message.envelope(source="intake-email", subject=str(message.intake_id)), message))
    with database_work(db.engine) as work:
        async with db.unit_of_work() as session:
            await intake.handle(session, batch)
    return work.statements


async def test_new_emails_from_new_senders_cost_six_statements_each_and_the_configuration_one_read(
    db: Database, services: Services
) -> None:
    intake = IntakeConsumer(services.cases, services.contacts, services.notifications, services.auto_responses)
    await _new_emails(db, intake, 1)  # loads the cached configuration

    one = await _new_emails(db, intake, 1)
    ten = await _new_emails(db, intake, 10)

    # Per message: already received?, sender's contact?, contact + identities, case, history,
    # message, its thread key. Per batch: the configuration version, the outbox insert.
    per_message = (len(ten) - len(one)) / 9
    assert per_message == 7, ten
    assert len(one) - per_message == 2, one
    assert sum("config_version" in statement for statement in ten) == 1, ten
    assert sum("INSERT INTO case_core.outbox" in statement for statement in ten) == 1, ten
