"""Suggestions stored on case.created, consumed from the real broker: one set per case however often
the event comes, none beside those a case's channel already sent its customer, shown to agents."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import partial

import httpx
import pytest
from sqlalchemy import func, select

from omnicase.devtools.testing.plugin import eventually
from omnicase.kit.bus.producer import EventProducer
from omnicase.kit.db import Database
from omnicase.kit.events import CaseCreated, CaseSnapshot, CaseStatus, Channel, Envelope, Priority
from omnicase.kit.topics import physical
from omnicase.knowledge.models import case_suggestions, inbox

pytestmark = pytest.mark.asyncio


def created(brand: str, subject: str, description: str, language: str | None = "en") -> CaseCreated:
    """A case.created as case-core publishes it (a case of ``brand``, which case-core has)."""
    now = datetime.now(UTC)
    case = CaseSnapshot(
        case_id=uuid.uuid4(),
        number=1,
        subject=subject,
        status=CaseStatus.NEW,
        priority=Priority.NORMAL,
        channel=Channel.EMAIL,
        brand=brand,
        brand_id=uuid.uuid4(),
        language=language,
        created_at=now,
        updated_at=now,
        version=1,
    )
    return CaseCreated(case=case, description=description)


async def publish(producer: EventProducer, prefix: str, event: CaseCreated) -> Envelope:
    envelope = event.envelope(source="case-core", subject=str(event.case.case_id))
    await producer.publish(physical(event.topic, prefix), envelope, key=str(event.case.case_id))
    return envelope


async def stored_rows(database: Database, case_id: uuid.UUID) -> int:
    async with database.unit_of_work() as session:
        statement = select(func.count()).select_from(case_suggestions).where(case_suggestions.c.case_id == case_id)
        return int((await session.execute(statement)).scalar_one())


async def consumed(database: Database, envelope: Envelope) -> bool:
    async with database.unit_of_work() as session:
        statement = select(func.count()).select_from(inbox).where(inbox.c.event_id == envelope.id)
        return bool((await session.execute(statement)).scalar_one())


async def test_a_new_case_gets_one_stored_set_of_suggestions_however_often_its_event_comes(
    client: httpx.AsyncClient,
    brand: str,
    producer: EventProducer,
    suite_topics: str,
    committing_db: Database,
) -> None:
    write = {"brand": brand, "status": "published"}
    password = await client.post(
        "/api/v1/kb/articles",
        json={**write, "locale": "en", "title": "Reset your password", "body": "Open Settings, then Security."},
    )
    assert password.status_code == 201, password.text
    refund = {**write, "locale": "en", "title": "Request a refund", "body": "Refunds take five business days."}
    assert (await client.post("/api/v1/kb/articles", json=refund)).status_code == 201
    draft = {**write, "status": "draft", "locale": "en", "title": "Password rules", "body": "Passwords are long."}
    assert (await client.post("/api/v1/kb/articles", json=draft)).status_code == 201

    event = created(brand, "I forgot my password", "I cannot sign in. How do I reset my password?")
    case_id = event.case.case_id
    path = f"/api/v1/cases/{case_id}/article-suggestions"
    envelope = await publish(producer, suite_topics, event)
    # The broker delivers it again (a lost commit), and case-core publishes it once more under a new id.
    await publish(producer, suite_topics, event)
    again = await publish(producer, suite_topics, event)

    async def stored() -> bool:
        return bool((await client.get(path)).json().get("origin") == "stored")

    await eventually(stored, within=60, message="the case's suggestions stored")
    await eventually(lambda: consumed(committing_db, again), within=60, message="every delivery consumed")
    assert await consumed(committing_db, envelope)
    shown = (await client.get(path)).json()
    assert (shown["case_id"], shown["locale"], shown["origin"]) == (str(case_id), "en", "stored")
    assert shown["suggested_at"] is not None
    assert [(item["article_id"], item["title"], item["customer"]) for item in shown["items"]] == [
        (password.json()["id"], "Reset your password", None)
    ], "published articles of the case's brand that answer it, drafts never"
    assert {"password", "reset"} <= set(shown["items"][0]["matched"])
    assert shown["items"][0]["url"].endswith(f"/public/help/{brand}/en/articles/{password.json()['id']}")
    assert await stored_rows(committing_db, case_id) == 1, "one set, however often the event came"
    counted = (await client.get(f"/api/v1/kb/articles/{password.json()['id']}/deflection")).json()
    assert counted["suggested"] == 0, "stored for agents, sent to no customer"


async def test_a_case_whose_channel_sent_suggestions_keeps_those(
    client: httpx.AsyncClient,
    brand: str,
    producer: EventProducer,
    suite_topics: str,
    committing_db: Database,
) -> None:
    write = {"brand": brand, "status": "published", "locale": "en"}
    refund = await client.post(
        "/api/v1/kb/articles", json={**write, "title": "Request a refund", "body": "Refunds take five days."}
    )
    assert refund.status_code == 201, refund.text
    event = created(brand, "Refund please", "I want a refund for my order.", language=None)
    case_id = event.case.case_id
    # The mailbox's auto-response asked first (case-core asks before it publishes the case).
    sent = {"case_id": str(case_id), "subject": event.case.subject, "text": event.description, "brand": brand}
    answered = await client.post("/api/v1/kb/suggestions", json=sent)
    assert [item["article_id"] for item in answered.json()["items"]] == [refund.json()["id"]]

    envelope = await publish(producer, suite_topics, event)
    await publish(producer, suite_topics, event)
    await eventually(lambda: consumed(committing_db, envelope), within=60, message="case.created consumed")

    assert await stored_rows(committing_db, case_id) == 0
    shown = (await client.get(f"/api/v1/cases/{case_id}/article-suggestions")).json()
    assert (shown["origin"], shown["locale"]) == ("sent", "en")
    assert [(item["article_id"], item["title"]) for item in shown["items"]] == [
        (refund.json()["id"], "Request a refund")
    ]
    customer = shown["items"][0]["customer"]
    assert customer["suggested_at"] is not None
    assert (customer["opened_at"], customer["answer"]) == (None, None)


async def test_a_case_nothing_answers_or_of_a_brand_without_articles_gets_nothing_stored(
    client: httpx.AsyncClient, brand: str, producer: EventProducer, suite_topics: str, committing_db: Database
) -> None:
    article = {"brand": brand, "status": "published", "locale": "en", "title": "Reset your password", "body": "x"}
    assert (await client.post("/api/v1/kb/articles", json=article)).status_code == 201
    event = created(brand, "Printer on fire", "Smoke everywhere.")
    # A brand that publishes nothing: its case is passed over (its language not even detected).
    silent = created(f"brand-{uuid.uuid4().hex[:12]}", "Reset your password", "How do I reset my password?", None)
    envelopes = [await publish(producer, suite_topics, e) for e in (event, silent)]
    for envelope in envelopes:
        await eventually(partial(consumed, committing_db, envelope), within=60, message="case.created consumed")
    assert await stored_rows(committing_db, event.case.case_id) == 0
    assert await stored_rows(committing_db, silent.case.case_id) == 0
    # Nothing stored and case-core has no such case (the event was the test's): a 404.
    missing = await client.get(f"/api/v1/cases/{event.case.case_id}/article-suggestions")
    assert missing.status_code == 404, missing.text
