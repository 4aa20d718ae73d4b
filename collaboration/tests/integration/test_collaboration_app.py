"""collaboration starts against real PostgreSQL and the broker, reports itself ready, and reads cases
through case-core's API (never a copy of its own, never case-core's tables): a case is there to swarm
on as soon as case-core created it, and a case-core that cannot answer is a 503 that changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from omnicase.collaboration.app import create_app
from omnicase.collaboration.models import metadata
from omnicase.collaboration.settings import CollaborationSettings
from omnicase.devtools.testing.apps import GatewayIdentity, assert_ready, running
from omnicase.devtools.testing.schema import schema_drift

pytestmark = pytest.mark.asyncio

SCOPES = frozenset({"collaboration:read", "collaboration:write"})
TellCase = Callable[..., Awaitable[Any]]


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    assert await schema_drift(database_url, metadata) == []


async def test_a_case_case_core_just_created_is_swarmed_at_once_by_its_assignee(
    client: httpx.AsyncClient, tell_case: TellCase, as_agent: Callable[..., GatewayIdentity]
) -> None:
    # No consumer: collaboration reads no topic.
    await assert_ready(client, "collaboration")
    owner = uuid.uuid4()
    case = await tell_case(assignee_id=owner, subject="Login loops")
    started = await client.post(f"/api/v1/cases/{case.case_id}/swarms", json={"question": "Why?"}, auth=as_agent(owner))
    assert started.status_code == 201, started.text
    assert (await client.get(f"/api/v1/cases/{case.case_id}/swarms")).json()["items"][0]["id"] == started.json()["id"]


async def test_without_case_core_a_swarm_is_a_503_and_nothing_is_written(
    client: httpx.AsyncClient, settings: CollaborationSettings, tell_case: TellCase
) -> None:
    case = await tell_case(assignee_id=uuid.uuid4())
    cut_off = settings.model_copy(update={"case_core_url": "http://127.0.0.1:9"})
    async with running(create_app(cut_off), scopes=SCOPES) as alone:
        refused = await alone.post(f"/api/v1/cases/{case.case_id}/swarms", json={"question": "Why?"})
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert (await alone.get(f"/api/v1/cases/{case.case_id}/experts")).status_code == 503
    assert (await client.get(f"/api/v1/cases/{case.case_id}/swarms")).json()["items"] == []
