"""The ``case.events`` handler on whole batches: set-based, same outcome as one event at a time,
configuration cached until it changes, updates that change nothing the engine reads skipped."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from omnicase.devtools.testing.apps import running
from omnicase.devtools.testing.database import database_work
from omnicase.devtools.testing.plugin import SettingsFactory
from omnicase.kit.bus.batch import Batch, Received
from omnicase.kit.db import Database
from omnicase.kit.events import (
    CaseCreated,
    CaseMessageAdded,
    CaseSnapshot,
    CaseStatus,
    CaseUpdated,
    Channel,
    EventData,
    FieldChange,
    Priority,
)
from omnicase.kit.outbox import Outbox
from omnicase.sla_engine.app import create_app
from omnicase.sla_engine.config.cache import ConfigCache
from omnicase.sla_engine.models import cases, milestones, timers
from omnicase.sla_engine.models import outbox as outbox_table
from omnicase.sla_engine.policies.schemas import PolicyCreate
from omnicase.sla_engine.policies.service import PolicyService
from omnicase.sla_engine.settings import SlaEngineSettings
from omnicase.sla_engine.tracking.consumers import case_events_handler

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("clock")]

SLA_SCOPES = frozenset({"sla:read", "sla:write"})
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
OUTBOX = Outbox(outbox_table)


class Story:
    """One case's events as case-core would publish them."""

    def __init__(self, brand: str, **fields: Any) -> None:
        self.snapshot = CaseSnapshot(
            case_id=uuid.uuid4(),
            number=7,
            subject="Router blinks red",
            status=CaseStatus.NEW,
            priority=Priority.NORMAL,
            channel=Channel.EMAIL,
            brand=brand,
            created_at=T0,
            updated_at=T0,
            version=1,
            **fields,
        )

    def created(self) -> Received[EventData]:
        return _received(CaseCreated(case=self.snapshot))

    def updated(self, minutes: int, **fields: Any) -> Received[EventData]:
        changes = {name: FieldChange(old=getattr(self.snapshot, name), new=value) for name, value in fields.items()}
        self._move(minutes, fields)
        snapshot = self.snapshot
        return _received(
            CaseUpdated(case_id=snapshot.case_id, version=snapshot.version, changes=changes, actor="t", case=snapshot)
        )

    def replied(self, minutes: int, **fields: Any) -> Received[EventData]:
        self._move(minutes, fields)
        return _received(
            CaseMessageAdded(
                case_id=self.snapshot.case_id,
                message_id=uuid.uuid4(),
                direction="outbound",
                public=True,
                author="user:1",
                author_role="agent",
                channel=Channel.EMAIL,
                case=self.snapshot,
            )
        )

    def _move(self, minutes: int, fields: dict[str, Any]) -> None:
        at = T0 + timedelta(minutes=minutes)
        self.snapshot = self.snapshot.model_copy(
            update={**fields, "updated_at": at, "version": self.snapshot.version + 1}
        )


def _received(data: EventData) -> Received[EventData]:
    return Received(
        data.envelope(source="case-core", subject=str(getattr(data, "case_id", None) or uuid.uuid4())), data
    )


async def handle(db: Database, handler: Any, batch: Batch) -> None:
    async with db.unit_of_work() as session:
        await handler(session, batch)


async def outcome(db: Database, case_ids: Sequence[uuid.UUID]) -> list[Any]:
    """Per case, in the order given: its milestones and timers, without the random ids."""
    async with db.unit_of_work() as session:
        found = []
        for case_id in case_ids:
            rows = await session.execute(
                select(milestones)
                .where(milestones.c.case_id == case_id)
                .order_by(milestones.c.kind, milestones.c.cycle)
            )
            clocks = [
                (m.kind, m.cycle, m.policy_id, m.target_seconds, m.warn_at, m.due_at, m.achieved_at, m.running_since)
                for m in rows
            ]
            timer_rows = await session.execute(
                select(timers.c.kind, timers.c.due_at, timers.c.payload["level"].astext)
                .where(timers.c.case_id == case_id)
                .order_by(timers.c.due_at, timers.c.payload["level"].astext)
            )
            state = (
                await session.execute(select(cases.c.status, cases.c.version).where(cases.c.case_id == case_id))
            ).one()
            found.append((tuple(state), clocks, [tuple(row) for row in timer_rows]))
        return found


async def create_policy(db: Database, brand: str) -> None:
    async with db.unit_of_work() as session:
        await PolicyService(session).create(
            PolicyCreate.model_validate(
                {
                    "name": f"policy for {brand}",
                    "conditions": {"brand": [brand], "tags_none": ["vip-exempt"]},
                    "targets": {
                        "normal": {"first_reply": {"minutes": 60}, "resolution": {"minutes": 480}},
                        "high": {"first_reply": {"minutes": 30}, "resolution": {"minutes": 240}},
                    },
                }
            )
        )


async def test_a_batch_of_fifty_new_cases_costs_the_statements_of_one(db: Database, brand: str) -> None:
    await create_policy(db, brand)
    handler = case_events_handler(OUTBOX)
    await handle(db, handler, [Story(brand).created()])  # loads the configuration once
    with database_work(db.engine) as one:
        await handle(db, handler, [Story(brand).created()])
    fifty_stories = [Story(brand) for _ in range(50)]
    with database_work(db.engine) as fifty:
        await handle(db, handler, [story.created() for story in fifty_stories])
    assert len(fifty.statements) == len(one.statements), (one, fifty)
    due = {row[1][0][5] for row in await outcome(db, [story.snapshot.case_id for story in fifty_stories])}
    assert due == {T0 + timedelta(minutes=60)}


async def test_updates_and_replies_in_one_batch_cost_no_more_statements_than_one_case(db: Database, brand: str) -> None:
    await create_policy(db, brand)
    handler = case_events_handler(OUTBOX)

    async def lived(count: int) -> int:
        stories = [Story(brand) for _ in range(count)]
        await handle(db, handler, [story.created() for story in stories])
        batch = []
        for story in stories:
            batch += [story.updated(5, status=CaseStatus.OPEN), story.replied(10)]
        with database_work(db.engine) as work:
            await handle(db, handler, batch)
        return len(work.statements)

    await lived(1)
    assert await lived(50) == await lived(1)


async def test_a_batch_ends_as_the_same_events_one_at_a_time(db: Database, brand: str) -> None:
    await create_policy(db, brand)

    def script(story: Story) -> list[Received[EventData]]:
        return [
            story.created(),
            story.updated(3, status=CaseStatus.OPEN, assignee_id=uuid.uuid4()),
            story.updated(4, priority=Priority.HIGH),
            story.replied(20),
            story.updated(25, tags=["vip-exempt"]),  # no policy applies any more
            story.updated(30, tags=[]),
            story.updated(40, status=CaseStatus.SOLVED),
        ]

    batched = [Story(brand) for _ in range(10)]
    single = [Story(brand) for _ in range(10)]
    # Cases interleaved as partitions would deliver them; each case's events in order.
    scripts = [script(story) for story in batched]
    interleaved = [events[step] for step in range(7) for events in scripts]
    await handle(db, case_events_handler(OUTBOX), interleaved)
    one_by_one = case_events_handler(OUTBOX)
    for story in single:
        for received in script(story):
            await handle(db, one_by_one, [received])
    assert await outcome(db, [s.snapshot.case_id for s in batched]) == await outcome(
        db, [s.snapshot.case_id for s in single]
    )


async def test_an_update_touching_nothing_the_engine_reads_rewrites_nothing(db: Database, brand: str) -> None:
    await create_policy(db, brand)
    handler = case_events_handler(OUTBOX)
    story = Story(brand)
    await handle(db, handler, [story.created()])
    before = await outcome(db, [story.snapshot.case_id])
    with database_work(db.engine) as work:
        await handle(
            db,
            handler,
            [
                story.updated(1, assignee_id=uuid.uuid4()),
                story.updated(2, custom_fields={"order": "A-17"}),
                story.updated(3, tags=["newsletter"]),  # a tag no condition names
            ],
        )
    writes = [sql for sql in work.statements if sql.upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []
    assert await outcome(db, [story.snapshot.case_id]) == before
    await handle(db, handler, [story.updated(4, tags=["newsletter", "vip-exempt"])])  # one a condition names
    assert (await outcome(db, [story.snapshot.case_id]))[0][2] == []  # no policy: no SLA timers


async def test_a_policy_changed_through_the_api_applies_to_the_next_event(
    service_settings: SettingsFactory, committing_db: Database, brand: str
) -> None:
    handler = case_events_handler(OUTBOX, ConfigCache())
    body = {
        "name": f"policy for {brand}",
        "conditions": {"brand": [brand]},
        "targets": {"normal": {"first_reply": {"minutes": 60}}},
    }
    async with running(create_app(service_settings(SlaEngineSettings)), scopes=SLA_SCOPES) as client:
        created = await client.post("/api/v1/sla/policies", json=body)
        assert created.status_code == 201, created.text
        first = Story(brand)
        await handle(committing_db, handler, [first.created()])

        body["targets"] = {"normal": {"first_reply": {"minutes": 15}}}
        changed = await client.put(f"/api/v1/sla/policies/{created.json()['id']}", json=body)
        assert changed.status_code == 200, changed.text
        second = Story(brand)
        await handle(committing_db, handler, [second.created()])

    first_due, second_due = (
        row[1][0][5] for row in await outcome(committing_db, [first.snapshot.case_id, second.snapshot.case_id])
    )
    assert (first_due, second_due) == (T0 + timedelta(minutes=60), T0 + timedelta(minutes=15))
