"""Mailboxes API: support addresses, their case defaults and validation."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from omnicase.devtools.devstack.processes import free_port
from omnicase.intake_email.mailboxes.cache import MailboxCache
from omnicase.kit.identity import IDENTITY_HEADER

pytestmark = pytest.mark.asyncio


def _address() -> str:
    return f"help-{uuid.uuid4().hex[:10]}@acme.test"


async def test_created_mailbox_is_readable_with_its_case_defaults(service: Any) -> None:
    group_id = str(uuid.uuid4())
    address = _address()
    response = await service.client.post(
        "/api/v1/mailboxes",
        json={
            "address": address.upper(),
            "display_name": "Acme Help",
            "brand": "acme",
            "defaults": {
                "priority": "high",
                "group_id": group_id,
                "tags": ["Email", "billing", "email"],
                "type": "question",
            },
            "auto_response": True,
            "signature": "-- \nAcme",
            "webhook_secret": "s" * 32,
        },
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"] == f"/api/v1/mailboxes/{created['id']}"
    assert created["address"] == address  # stored lowercased
    assert created["defaults"] == {
        "priority": "high",
        "group_id": group_id,
        "tags": ["email", "billing"],
        "type": "question",
    }
    assert created["auto_response"] is True
    assert created["webhook_secret_set"] is True
    assert "webhook_secret" not in created
    fetched = await service.client.get(f"/api/v1/mailboxes/{created['id']}")
    assert fetched.json() == created


async def test_address_is_unique_regardless_of_case(service: Any) -> None:
    address = _address()
    first = await service.client.post("/api/v1/mailboxes", json={"address": address})
    assert first.status_code == 201
    again = await service.client.post("/api/v1/mailboxes", json={"address": address.title()})
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["errors"][0]["field"] == "body.address"


INVALID_MAILBOXES: list[tuple[dict[str, Any], str]] = [
    ({"address": "not-an-address"}, "body.address"),
    ({"address": "a b@acme.test"}, "body.address"),
    ({"address": "x@acme.test", "defaults": {"priority": "whenever"}}, "body.defaults.priority"),
    ({"address": "x@acme.test", "defaults": {"group_id": "nope"}}, "body.defaults.group_id"),
    ({"address": "x@acme.test", "defaults": {"tags": ["two words"]}}, "body.defaults.tags"),
    ({"address": "x@acme.test", "brand": "Not A Slug"}, "body.brand"),
    ({"address": "x@acme.test", "webhook_secret": "short"}, "body.webhook_secret"),
    ({"address": "x@acme.test", "logo_url": "javascript:alert(1)"}, "body.logo_url"),
    ({"address": "x@acme.test", "colour": "red"}, "body.colour"),
    ({}, "body.address"),
]


async def test_invalid_mailbox_is_refused_per_field_and_nothing_is_stored(service: Any) -> None:
    # One service for every case: starting one per case costs more than the cases themselves.
    for body, field in INVALID_MAILBOXES:
        response = await service.client.post("/api/v1/mailboxes", json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert field in [error["field"] for error in response.json()["errors"]], body
    valid = await service.client.post("/api/v1/mailboxes", json={"address": "x@acme.test"})
    # Nothing was stored by the refused posts: the address is still free (or left by an earlier run).
    assert valid.status_code in (201, 409)


async def test_update_changes_only_given_fields_and_keeps_address_unique(service: Any) -> None:
    one = await service.mailbox(display_name="One", auto_response=True)
    two = await service.mailbox()
    changed = await service.client.patch(
        f"/api/v1/mailboxes/{one['id']}", json={"auto_response": False, "defaults": {"tags": ["vip"]}}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["auto_response"] is False
    assert changed.json()["display_name"] == "One"
    assert changed.json()["defaults"]["tags"] == ["vip"]
    assert changed.json()["suggest_articles"] is False
    suggesting = await service.client.patch(f"/api/v1/mailboxes/{one['id']}", json={"suggest_articles": True})
    assert suggesting.json()["suggest_articles"] is True
    assert suggesting.json()["auto_response"] is False, "only the given field changes"
    refused = await service.client.patch(f"/api/v1/mailboxes/{one['id']}", json={"suggest_articles": "yes"})
    assert refused.status_code == 422
    assert [error["field"] for error in refused.json()["errors"]] == ["body.suggest_articles"]
    clash = await service.client.patch(f"/api/v1/mailboxes/{one['id']}", json={"address": two["address"].upper()})
    assert clash.status_code == 409
    unchanged = await service.client.get(f"/api/v1/mailboxes/{one['id']}")
    assert unchanged.json()["address"] == one["address"]
    bad = await service.client.patch(f"/api/v1/mailboxes/{one['id']}", json={"address": "nope"})
    assert bad.status_code == 422


async def test_list_pages_with_a_cursor(service: Any) -> None:
    created = {(await service.mailbox())["id"] for _ in range(3)}
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await service.client.get("/api/v1/mailboxes", params=params)).json()
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert created <= set(seen)
    assert len(seen) == len(set(seen))
    bad = await service.client.get("/api/v1/mailboxes", params={"cursor": "!!!"})
    assert bad.status_code == 422


async def test_missing_mailbox_is_404_and_unused_mailbox_can_be_deleted(service: Any) -> None:
    missing = await service.client.get(f"/api/v1/mailboxes/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    mailbox = await service.mailbox()
    deleted = await service.client.delete(f"/api/v1/mailboxes/{mailbox['id']}")
    assert deleted.status_code == 204
    assert (await service.client.get(f"/api/v1/mailboxes/{mailbox['id']}")).status_code == 404


async def test_agents_read_mailboxes_only_channels_writers_configure_them(service: Any, identity: Any) -> None:
    mailbox = await service.mailbox()
    no_identity = await service.client.get("/api/v1/mailboxes", headers={IDENTITY_HEADER: ""})
    assert no_identity.status_code == 401
    assert no_identity.headers["content-type"] == "application/problem+json"
    agent = {IDENTITY_HEADER: identity(service.settings, "agent")}
    refused = await service.client.post("/api/v1/mailboxes", json={"address": "agent@acme.test"}, headers=agent)
    assert refused.status_code == 403
    assert (await service.client.get(f"/api/v1/mailboxes/{mailbox['id']}", headers=agent)).status_code == 200
    customer = {IDENTITY_HEADER: identity(service.settings, "end_user")}
    message_path = "/api/v1/mailboxes/-/messages/0190b6c2-0000-7000-8000-000000000000"
    assert (await service.client.get(message_path, headers=customer)).status_code == 403
    assert (await service.client.get(message_path, headers=agent)).status_code == 404  # allowed, just not there
    scoped = {IDENTITY_HEADER: identity(service.settings, "integration", ("channels:write",))}
    renamed = await service.client.patch(
        f"/api/v1/mailboxes/{mailbox['id']}", json={"display_name": "Support (CI)"}, headers=scoped
    )
    assert renamed.status_code == 200, renamed.text
    reader = {IDENTITY_HEADER: identity(service.settings, "integration", ("cases:read",))}
    assert (await service.client.get(f"/api/v1/mailboxes/{mailbox['id']}", headers=reader)).status_code == 403


async def test_case_mail_lists_refuse_bad_queries_per_field(service: Any) -> None:
    for path in ("/api/v1/mailboxes/-/messages", "/api/v1/mailboxes/-/outbound"):
        missing = await service.client.get(path)
        assert missing.status_code == 422
        assert [error["field"] for error in missing.json()["errors"]] == ["query.case_id"]
        params = {"case_id": "0190b6c2-0000-7000-8000-000000000000"}
        bad_cursor = await service.client.get(path, params={**params, "cursor": "!!!"})
        assert bad_cursor.status_code == 422
        assert bad_cursor.json()["errors"][0]["field"] == "query.cursor"
        empty = await service.client.get(path, params=params)
        assert empty.json() == {"items": [], "next_cursor": None}


async def test_another_replicas_mailbox_cache_finds_new_mailboxes_at_once_and_drops_removed_ones_at_its_check(
    service: Any,
) -> None:
    other_replica = MailboxCache(service.app.state.runtime.database)
    await other_replica.check()
    assert await other_replica.by_address("nobody-yet@acme.test") is None
    mailbox = await service.mailbox()
    found = await other_replica.by_address(mailbox["address"].upper())  # not cached yet: looked up
    assert found is not None
    assert str(found.id) == mailbox["id"]
    assert (await service.client.delete(f"/api/v1/mailboxes/{mailbox['id']}")).status_code == 204
    assert await other_replica.by_address(mailbox["address"]) == found  # kept until the check
    await other_replica.check()
    assert await other_replica.by_address(mailbox["address"]) is None


async def test_a_mailbox_naming_a_brand_nobody_has_is_refused_naming_the_field_and_nothing_is_written(
    service: Any,
) -> None:
    nobody = f"nobody-{uuid.uuid4().hex[:8]}"
    address = _address()
    refused = await service.client.post("/api/v1/mailboxes", json={"address": address, "brand": nobody})
    assert refused.status_code == 404, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("/unknown-reference")
    assert [error["field"] for error in refused.json()["errors"]] == ["body.brand"]
    # Nothing was written: the address is still free.
    mailbox = await service.mailbox(address=address, brand="acme")
    moved = await service.client.patch(f"/api/v1/mailboxes/{mailbox['id']}", json={"brand": nobody})
    assert moved.status_code == 404, moved.text
    assert [error["field"] for error in moved.json()["errors"]] == ["body.brand"]
    assert (await service.client.get(f"/api/v1/mailboxes/{mailbox['id']}")).json()["brand"] == "acme"


async def test_without_case_core_a_branded_mailbox_is_refused_for_now_but_other_changes_are_taken(
    start_service: Any,
) -> None:
    alone = await start_service(case_core_url=f"http://127.0.0.1:{free_port()}", case_core_timeout_seconds=2)
    address = _address()
    refused = await alone.client.post("/api/v1/mailboxes", json={"address": address, "brand": "acme"})
    assert refused.status_code == 503, refused.text
    assert refused.json()["type"].endswith("/service-unavailable")
    # Nothing was written, and a mailbox naming no brand, or a change keeping its brand, asks nobody.
    mailbox = await alone.mailbox(address=address)
    changed = await alone.client.patch(f"/api/v1/mailboxes/{mailbox['id']}", json={"display_name": "Help"})
    assert changed.status_code == 200, changed.text
