"""What a batch of inbound messages or commands costs the database: a few statements per
message, the configuration (triggers, webhooks, auto-response template) read once per
batch, no savepoint per command."""

from __future__ import annotations

import uuid

import httpx
import pytest

from omnicase.case_core.commands.consumer import CommandConsumer
from omnicase.case_core.intake.consumer import IntakeConsumer
from omnicase.case_core.testing import Deliver, Email, inbound_email
from omnicase.case_core.wiring import Services
from omnicase.devtools.testing.database import database_work
from omnicase.kit.bus.batch import Received
from omnicase.kit.db import Database
from omnicase.kit.events import AssignCase, CaseStatus, SetCaseStatus

pytestmark = pytest.mark.asyncio


async def _new_emails(db: Database, intake: IntakeConsumer, count: int) -> list[str]:
    batch = []
    for _ in range(count):
        message = inbound_email(f"{uuid.uuid4().hex[:12]}@customers.example")
        batch.append(Received(message.envelope(source="intake-email", subject=str(message.intake_id)), message))
    with database_work(db.engine, whole_statements=True) as work:
        async with db.unit_of_work() as session:
            await intake.handle(session, batch)
    return work.statements


async def test_new_emails_from_new_senders_cost_one_statement_each_and_their_senders_and_lookups_one_per_batch(
    db: Database, services: Services
) -> None:
    intake = services.intake
    await _new_emails(db, intake, 1)  # loads the cached configuration

    one = await _new_emails(db, intake, 1)
    ten = await _new_emails(db, intake, 10)

    # Per message: the case with its message and thread key. Per batch: which messages arrived
    # before and who holds the senders' identities (read for the whole batch), the new senders'
    # contacts and identities, the configuration version, the history and outbox inserts at commit.
    per_message = (len(ten) - len(one)) / 9
    assert per_message == 1, ten
    assert len(one) - per_message == 6, one
    assert sum("INSERT INTO case_core.contacts" in statement for statement in ten) == 1, ten
    assert sum("INSERT INTO case_core.case_history" in statement for statement in ten) == 1, ten
    assert sum(statement.startswith("SELECT case_core.messages.id") for statement in ten) == 1, ten
    assert sum("INSERT INTO case_core.thread_keys" in statement for statement in ten) == 10, ten
    assert sum("INSERT INTO case_core.cases" in statement for statement in ten) == 10, ten
    assert sum("config_version" in statement for statement in ten) == 1, ten
    assert sum("INSERT INTO case_core.outbox" in statement for statement in ten) == 1, ten


async def test_a_refused_command_leaves_nothing_and_the_rest_of_its_batch_applies(
    db: Database, services: Services, api: httpx.AsyncClient, deliver: Deliver, email: Email
) -> None:
    address = f"{uuid.uuid4().hex[:12]}@customers.example"
    await deliver(email(address))
    contact = (await api.get("/api/v1/contacts", params={"q": address})).json()["items"][0]
    [case] = (await api.get(f"/api/v1/contacts/{contact['id']}/cases")).json()["items"]
    case_id = uuid.UUID(case["id"])
    before = (await api.get(f"/api/v1/cases/{case_id}/history")).json()["items"]
    assignee = uuid.uuid4()
    commands = [
        SetCaseStatus(case_id=case_id, status=CaseStatus.CLOSED, reason="sla: refused, new cannot close"),
        AssignCase(case_id=case_id, assignee_id=assignee, reason="routing: best"),
        AssignCase(case_id=uuid.uuid4(), assignee_id=assignee, reason="routing: a case that does not exist"),
    ]
    batch = [Received(command.envelope(source="test", subject=str(case_id)), command) for command in commands]
    async with db.unit_of_work() as session:
        await CommandConsumer(services.cases).handle(session, batch)

    current = (await api.get(f"/api/v1/cases/{case_id}")).json()
    assert (current["status"], current["assignee_id"]) == ("open", str(assignee))
    history = (await api.get(f"/api/v1/cases/{case_id}/history")).json()["items"]
    added = [(entry["field"], entry["actor"]) for entry in history[len(before) :]]
    assert sorted(added) == [("assignee_id", "routing: best"), ("status", "routing: best")]


async def test_a_batch_of_commands_locks_its_cases_in_one_statement_and_sees_its_own_changes(
    db: Database, services: Services, api: httpx.AsyncClient, deliver: Deliver, email: Email
) -> None:
    case_ids = []
    for _ in range(4):
        address = f"{uuid.uuid4().hex[:12]}@customers.example"
        await deliver(email(address))
        contact = (await api.get("/api/v1/contacts", params={"q": address})).json()["items"][0]
        [case] = (await api.get(f"/api/v1/contacts/{contact['id']}/cases")).json()["items"]
        case_ids.append(uuid.UUID(case["id"]))
    assignee = uuid.uuid4()
    commands: list[AssignCase | SetCaseStatus] = [
        AssignCase(case_id=case_id, assignee_id=assignee, reason="routing: best") for case_id in case_ids
    ]
    # A second command on the first case reads the case as the first one left it.
    commands.append(SetCaseStatus(case_id=case_ids[0], status=CaseStatus.PENDING, reason="sla: waiting"))
    batch = [Received(command.envelope(source="test", subject=str(command.case_id)), command) for command in commands]
    with database_work(db.engine, whole_statements=True) as work:
        async with db.unit_of_work() as session:
            await CommandConsumer(services.cases).handle(session, batch)

    locks = [statement for statement in work.statements if "FOR UPDATE" in statement]
    assert len(locks) == 1, work.statements
    assert sum(statement.startswith("UPDATE case_core.cases") for statement in work.statements) == 5, work.statements
    cases = [(await api.get(f"/api/v1/cases/{case_id}")).json() for case_id in case_ids]
    assert [(case["status"], case["assignee_id"]) for case in cases] == [("pending", str(assignee))] + [
        ("open", str(assignee))
    ] * 3
    assert [case["version"] for case in cases] == [3, 2, 2, 2]
