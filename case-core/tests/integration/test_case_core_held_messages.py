"""The suspended-messages queue: held messages kept once, listed, recovered into exactly one case, deleted, expired."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from omnicase.case_core.held.models import held_messages
from omnicase.case_core.settings import CaseCoreSettings
from omnicase.case_core.testing import Deliver, Email, Published, identity_headers
from omnicase.case_core.wiring import Services
from omnicase.devtools.testing.clock import ManualClock
from omnicase.kit.db import Database
from omnicase.kit.events import HoldReason, MessageHeld

pytestmark = pytest.mark.asyncio

BASE = "/api/v1/suspended-messages"


def _bounce(email: Email, address: str, subject: str = "Undelivered Mail Returned to Sender") -> MessageHeld:
    message = email(address, subject=subject, text="Your message could not be delivered.", auto_generated=True)
    return MessageHeld(message=message, reason=HoldReason.NOISE, detail="bounce not in reply to any case: test")


async def _cases_titled(api: httpx.AsyncClient, subject: str) -> list[dict[str, Any]]:
    items = (await api.get("/api/v1/cases", params={"q": subject, "limit": 50})).json()["items"]
    return [item for item in items if item["subject"] == subject]


async def test_a_held_message_is_kept_once_acknowledged_each_time_and_listed_newest_first(
    api: httpx.AsyncClient, deliver: Deliver, published: Published, email: Email, address: str
) -> None:
    older = _bounce(email, address, "Older bounce")
    newer = _bounce(email, address, "Newer bounce")
    await deliver(older)
    await deliver(newer)
    await deliver(older)  # the intake lost our answer and sent it again

    acks = [data for kind, data in await published(older.message.intake_id) if kind == "case.held_message_kept"]
    assert acks == [{"source_intake_id": str(older.message.intake_id)}] * 2
    page = (await api.get(BASE, params={"channel": "email", "reason": "noise", "limit": 200})).json()
    mine = [item for item in page["items"] if item["sender"]["email"] == address]
    assert [item["subject"] for item in mine] == ["Newer bounce", "Older bounce"]
    assert mine[0]["detail"] == "bounce not in reply to any case: test"
    assert mine[0]["preview"] == "Your message could not be delivered."
    spam = (await api.get(BASE, params={"reason": "spam", "limit": 200})).json()["items"]
    assert address not in {item["sender"].get("email") for item in spam}
    assert await _cases_titled(api, "Older bounce") == []


async def test_recovering_opens_one_case_and_a_second_recovery_is_a_conflict_naming_it(
    api: httpx.AsyncClient, deliver: Deliver, published: Published, email: Email, address: str
) -> None:
    held = _bounce(email, address, "Actually a customer")
    await deliver(held)
    held_id = held.message.intake_id

    recovered = await api.post(f"{BASE}/{held_id}/recover")
    assert recovered.status_code == 200, recovered.text
    body = recovered.json()
    assert body["status"] == "recovered"
    assert body["settled_by"].startswith("user:")
    [case] = await _cases_titled(api, "Actually a customer")
    assert (body["case_id"], body["case_number"]) == (case["id"], case["number"])
    created = [data for kind, data in await published(case["id"]) if kind == "case.created"]
    assert [data["source_intake_id"] for data in created] == [str(held_id)]  # the intake's acknowledgement

    again = await api.post(f"{BASE}/{held_id}/recover")
    assert again.status_code == 409
    assert again.json()["case_id"] == case["id"]
    assert (await api.delete(f"{BASE}/{held_id}")).status_code == 409
    assert len(await _cases_titled(api, "Actually a customer")) == 1
    listed = (await api.get(BASE, params={"limit": 200})).json()["items"]
    assert str(held_id) not in {item["id"] for item in listed}
    assert (await api.get(f"{BASE}/{held_id}")).json()["status"] == "recovered"


async def test_a_deleted_message_is_gone_and_a_late_copy_does_not_bring_it_back(
    api: httpx.AsyncClient, deliver: Deliver, email: Email, address: str
) -> None:
    held = _bounce(email, address, "Deleted bounce")
    await deliver(held)
    held_id = held.message.intake_id
    assert (await api.delete(f"{BASE}/{held_id}")).status_code == 204
    assert (await api.get(f"{BASE}/{held_id}")).status_code == 404
    assert (await api.post(f"{BASE}/{held_id}/recover")).status_code == 404
    assert (await api.delete(f"{BASE}/{held_id}")).status_code == 404

    await deliver(held)
    assert (await api.get(f"{BASE}/{held_id}")).status_code == 404


async def test_bad_requests_change_nothing(
    api: httpx.AsyncClient, deliver: Deliver, email: Email, address: str, settings: CaseCoreSettings
) -> None:
    held = _bounce(email, address, "Still held")
    await deliver(held)
    held_id = held.message.intake_id
    assert (await api.get(BASE, params={"reason": "rude"})).status_code == 422
    assert (await api.get(BASE, params={"cursor": "not-a-cursor"})).status_code == 422
    assert (await api.get(f"{BASE}/not-an-id")).status_code == 404  # a path that holds no id addresses nothing
    reader = identity_headers(settings.internal_secret, role="agent", scopes=frozenset({"cases:read"}))
    refused = await api.post(f"{BASE}/{held_id}/recover", headers=reader)
    assert refused.status_code == 403
    customer = identity_headers(settings.internal_secret, role="end_user", scopes=frozenset({"cases:read"}))
    assert (await api.get(BASE, headers=customer)).status_code == 403
    assert (await api.get(f"{BASE}/{held_id}")).json()["status"] == "held"
    assert await _cases_titled(api, "Still held") == []


async def test_held_messages_expire_after_the_retention_and_tombstones_are_pruned(
    api: httpx.AsyncClient, deliver: Deliver, db: Database, services: Services, email: Email, address: str,
    clock: ManualClock,
) -> None:  # fmt: skip
    kept, deleted = _bounce(email, address, "Expires"), _bounce(email, address, "Tombstone")
    await deliver(kept)
    await deliver(deleted)
    assert (await api.delete(f"{BASE}/{deleted.message.intake_id}")).status_code == 204

    clock._now += timedelta(days=services.settings.held_message_retention_days, seconds=1)
    async with db.unit_of_work() as session:
        expired, pruned = await services.held.sweep(session)
    assert (expired, pruned) >= (1, 1)
    async with db.unit_of_work() as session:
        ids = set(await session.scalars(select(held_messages.c.id)))
    assert kept.message.intake_id not in ids
    assert deleted.message.intake_id not in ids
