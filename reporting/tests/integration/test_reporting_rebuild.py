"""``omnicase reporting rebuild``: the read model computed again from case-core's, sla-engine's and
intake-web's APIs (the real services, in-process) is the row the consumer would have made of the same case,
and of the same call."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select

from omnicase.case_core.app import create_app as create_case_core
from omnicase.case_core.settings import CaseCoreSettings
from omnicase.case_core.testing import STAFF_SCOPES
from omnicase.devtools.testing.apps import GatewayIdentity, running
from omnicase.devtools.testing.plugin import SettingsFactory
from omnicase.intake_web.app import create_app as create_intake_web
from omnicase.intake_web.models import voice_calls
from omnicase.intake_web.settings import IntakeWebSettings
from omnicase.kit.db import Database, create_engine
from omnicase.reporting.models import calls
from omnicase.reporting.readmodel.repository import ReadModelRepository
from omnicase.reporting.rebuild.owners import Owners
from omnicase.reporting.rebuild.service import rebuild
from omnicase.sla_engine.app import create_app as create_sla_engine
from omnicase.sla_engine.settings import SlaEngineSettings

pytestmark = pytest.mark.asyncio


T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def _call(channel_id: str, direction: str, **values: Any) -> dict[str, Any]:
    """A call record as intake-web keeps it (its webhooks' end state)."""
    return {
        "id": uuid.uuid4(),
        "channel_id": uuid.UUID(channel_id),
        "call_sid": f"CA{uuid.uuid4().hex}",
        "direction": direction,
        "from_number": "+14155550100",
        "to_number": "+15005550006",
        "status": "completed",
        "started_at": T0,
        "updated_at": T0,
        **dict.fromkeys(
            ("answered_by", "answered_at", "placed_by", "ended_at", "duration_seconds", "recording_url"), None
        ),
        "callback_requested_at": None,
        **values,
    }


async def test_a_rebuild_makes_each_case_from_its_owners_history_and_each_call_from_its_record(
    service_settings: SettingsFactory, database_url: str, brand: str
) -> None:
    case_core = create_case_core(service_settings(CaseCoreSettings))
    sla_engine = create_sla_engine(service_settings(SlaEngineSettings))
    intake_web = create_intake_web(service_settings(IntakeWebSettings))
    async with (
        running(case_core, scopes=STAFF_SCOPES) as core,
        running(sla_engine, scopes=frozenset({"sla:read", "sla:write"})),
        running(intake_web, scopes=frozenset({"channels:read", "channels:write"})) as web,
    ):
        line = await web.post(
            "/api/v1/voice/channels",
            json={
                "name": "Rebuilt line",
                "account_sid": "AC0123456789abcdef",
                "auth_token": "rebuild-token-0123",
                "phone_numbers": ["+15005550006"],
            },
        )
        assert line.status_code == 201, line.text
        channel_id, agent_id = line.json()["id"], uuid.uuid4()
        answered = _call(
            channel_id, "inbound", answered_by=agent_id, answered_at=T0 + timedelta(seconds=12),
            ended_at=T0 + timedelta(seconds=100), duration_seconds=88, recording_url="https://rec.example/RE1",
        )  # fmt: skip
        voicemail = _call(
            channel_id, "inbound", ended_at=T0 + timedelta(seconds=40), duration_seconds=40,
            recording_url="https://rec.example/RE2", callback_requested_at=T0 + timedelta(seconds=41),
        )  # fmt: skip
        placed = _call(
            channel_id, "outbound", placed_by=agent_id, answered_at=T0 + timedelta(seconds=5),
            ended_at=T0 + timedelta(seconds=65), duration_seconds=60,
        )  # fmt: skip
        abandoned = _call(channel_id, "inbound", ended_at=T0 + timedelta(seconds=30), duration_seconds=30)
        ringing = _call(channel_id, "inbound", status="ringing")
        async with intake_web.state.runtime.database.unit_of_work() as session:
            await session.execute(insert(voice_calls), [answered, voicemail, placed, abandoned, ringing])

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
            "http://intake-web": httpx.ASGITransport(app=intake_web),
        }
        database = Database(create_engine(database_url, pool_size=2))
        try:
            async with httpx.AsyncClient(mounts=mounts) as client:
                owners = Owners(
                    "http://case-core",
                    "http://sla-engine",
                    case_core.state.settings.internal_secret,
                    client,
                    intake_web_url="http://intake-web",
                )
                assert await rebuild(database, owners) >= 1
            async with database.unit_of_work() as session:
                [row] = (await ReadModelRepository(session).cases([uuid.UUID(case["id"])])).values()
                ids = [call["id"] for call in (answered, voicemail, placed, abandoned, ringing)]
                rebuilt = {
                    found.call_id: found
                    for found in await session.execute(select(calls).where(calls.c.call_id.in_(ids)))
                }
        finally:
            await database.engine.dispose()

    assert (row.channel, row.brand, row.status) == ("web", brand, "solved")
    assert row.public_replies == 1
    assert row.reopen_count == 1
    assert row.first_reply_at is not None
    assert row.solved_at is not None
    assert row.resolution_seconds == (row.solved_at - row.created_at).total_seconds()

    # Each call as the consumer of voice.events made it: the answer, its wait and agent, the end, the
    # voicemail and the callback asked, the call placed from a case, the caller who hung up, the call ringing.
    seen = rebuilt[answered["id"]]
    assert (seen.direction, seen.assignee_id, seen.wait_seconds, seen.end_status) == (
        "inbound",
        agent_id,
        12,
        "completed",
    )
    assert (seen.voicemail_at, seen.callback_at, seen.started_at) == (None, None, T0)
    left = rebuilt[voicemail["id"]]
    assert (left.answered_at, left.voicemail_at, left.callback_at) == (
        None,
        voicemail["ended_at"],
        voicemail["callback_requested_at"],
    )
    out = rebuilt[placed["id"]]
    assert (out.direction, out.assignee_id, out.wait_seconds, out.ended_at) == ("outbound", None, 5, placed["ended_at"])
    gone = rebuilt[abandoned["id"]]
    assert (gone.answered_at, gone.voicemail_at, gone.callback_at, gone.ended_at) == (
        None,
        None,
        None,
        abandoned["ended_at"],
    )
    still = rebuilt[ringing["id"]]
    assert (still.started_at, still.ended_at, still.end_status) == (T0, None, None)
