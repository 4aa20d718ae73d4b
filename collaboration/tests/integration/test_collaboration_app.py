"""collaboration starts against real PostgreSQL and the broker, reports itself ready, and learns of
cases from case-core's events on the topic (its projection, never case-core's tables)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from omnicase.collaboration.models import metadata
from omnicase.collaboration.settings import CollaborationSettings
from omnicase.devtools.testing.apps import GatewayIdentity, assert_ready
from omnicase.devtools.testing.plugin import eventually
from omnicase.devtools.testing.schema import schema_drift
from omnicase.kit.bus.producer import EventProducer
from omnicase.kit.events import CaseCreated, CaseSnapshot, CaseStatus, Channel, Priority
from omnicase.kit.topics import Topic, physical

pytestmark = pytest.mark.asyncio


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    assert await schema_drift(database_url, metadata) == []


async def test_a_case_told_on_case_events_can_be_swarmed_by_its_assignee(
    client: httpx.AsyncClient, settings: CollaborationSettings, as_agent: Callable[..., GatewayIdentity]
) -> None:
    await assert_ready(client, "collaboration", "consumer:collaboration")
    owner = uuid.uuid4()
    now = datetime.now(UTC)
    case = CaseSnapshot(
        case_id=uuid.uuid4(),
        number=1,
        subject="Login loops",
        status=CaseStatus.OPEN,
        priority=Priority.HIGH,
        channel=Channel.WEB,
        assignee_id=owner,
        created_at=now,
        updated_at=now,
        version=1,
    )
    producer = EventProducer(settings.kafka_bootstrap_servers, client_id="test-case-core")
    await producer.start()
    try:
        envelope = CaseCreated(case=case, description="It loops.").envelope(
            source="case-core", subject=str(case.case_id)
        )
        await producer.publish(physical(Topic.CASE_EVENTS, settings.topic_prefix), envelope, key=str(case.case_id))
    finally:
        await producer.stop()

    async def swarmed() -> bool:
        response = await client.post(
            f"/api/v1/cases/{case.case_id}/swarms", json={"question": "Why?"}, auth=as_agent(owner)
        )
        return response.status_code == 201

    await eventually(swarmed, message="the case arrived from case.events and its assignee swarmed on it")
