"""``omnicase reporting rebuild``: the read model computed again from case-core's and sla-engine's APIs
(the real services, in-process) is the row the consumer would have made of the same case."""

from __future__ import annotations

import uuid

import httpx
import pytest

from omnicase.case_core.app import create_app as create_case_core
from omnicase.case_core.settings import CaseCoreSettings
from omnicase.case_core.testing import STAFF_SCOPES
from omnicase.devtools.testing.apps import GatewayIdentity, running
from omnicase.devtools.testing.plugin import SettingsFactory
from omnicase.kit.db import Database, create_engine
from omnicase.reporting.readmodel.repository import ReadModelRepository
from omnicase.reporting.rebuild.owners import Owners
from omnicase.reporting.rebuild.service import rebuild
from omnicase.sla_engine.app import create_app as create_sla_engine
from omnicase.sla_engine.settings import SlaEngineSettings

pytestmark = pytest.mark.asyncio


async def test_a_rebuild_makes_each_case_from_its_owners_history(
    service_settings: SettingsFactory, database_url: str, brand: str
) -> None:
    case_core = create_case_core(service_settings(CaseCoreSettings))
    sla_engine = create_sla_engine(service_settings(SlaEngineSettings))
    async with (
        running(case_core, scopes=STAFF_SCOPES) as core,
        running(sla_engine, scopes=frozenset({"sla:read", "sla:write"})),
    ):
        created = await core.post(
            "/api/v1/cases",
            json={
                "subject": "Printer on fire",
                "channel": "web",
                "brand": brand,
                "requester": {"email": "ada@example.com"},
            },
        )
        assert created.status_code == 201, created.text
        case = created.json()
        # An agent (a user's id) answers: a public agent reply.
        agent = GatewayIdentity(
            case_core.state.settings.internal_secret, role="agent", scopes=STAFF_SCOPES, subject=str(uuid.uuid4())
        )
        reply = await core.post(
            f"/api/v1/cases/{case['id']}/messages", json={"text": "On it.", "public": True}, auth=agent
        )
        assert reply.status_code == 201, reply.text
        for status in ("solved", "open", "solved"):
            current = (await core.get(f"/api/v1/cases/{case['id']}")).json()
            changed = await core.patch(
                f"/api/v1/cases/{case['id']}", json={"status": status}, headers={"If-Match": f'"{current["version"]}"'}
            )
            assert changed.status_code == 200, changed.text

        mounts = {
            "http://case-core": httpx.ASGITransport(app=case_core),
            "http://sla-engine": httpx.ASGITransport(app=sla_engine),
        }
        database = Database(create_engine(database_url, pool_size=2))
        try:
            async with httpx.AsyncClient(mounts=mounts) as client:
                owners = Owners(
                    "http://case-core", "http://sla-engine", case_core.state.settings.internal_secret, client
                )
                assert await rebuild(database, owners) >= 1
            async with database.unit_of_work() as session:
                [row] = (await ReadModelRepository(session).cases([uuid.UUID(case["id"])])).values()
        finally:
            await database.engine.dispose()

    assert (row.channel, row.brand, row.status) == ("web", brand, "solved")
    assert row.public_replies == 1
    assert row.reopen_count == 1
    assert row.first_reply_at is not None
    assert row.solved_at is not None
    assert row.resolution_seconds == (row.solved_at - row.created_at).total_seconds()
