"""Users: created and changed by admins only, links by role, no mass assignment, the last admin stays."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import update

from omnicase.gateway.identity.errors import LastAdmin
from omnicase.gateway.identity.schemas import UserUpdate
from omnicase.gateway.identity.service import IdentityService
from omnicase.gateway.models import users
from omnicase.gateway.testing import PASSWORD, Gateway, Upstream
from omnicase.kit.clock import utcnow
from omnicase.kit.db import Database

pytestmark = pytest.mark.asyncio


def new_email() -> str:
    return f"user-{uuid.uuid4().hex[:10]}@example.test"


async def test_an_admin_creates_an_agent_who_can_then_log_in(gateway: Gateway) -> None:
    _, admin = await gateway.bearer("admin")
    agent_id = str(uuid.uuid4())
    email = new_email()
    created = await gateway.client.post(
        "/api/v1/users",
        json={"email": email.upper(), "name": "Ada", "role": "agent", "password": PASSWORD, "agent_id": agent_id},
        headers=admin,
    )
    assert created.status_code == 201
    assert created.json()["email"] == email
    assert created.json()["agent_id"] == agent_id
    assert "password" not in created.text
    assert "password_hash" not in created.text
    login = await gateway.client.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": email, "password": PASSWORD}
    )
    assert login.status_code == 200
    fetched = await gateway.client.get(f"/api/v1/users/{created.json()['id']}", headers=admin)
    assert fetched.json()["email"] == email
    assert fetched.json()["last_login_at"] is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "end_user"}, "body.contact_id"),
        ({"role": "agent", "contact_id": str(uuid.uuid4())}, "body.contact_id"),
        ({"role": "end_user", "contact_id": str(uuid.uuid4()), "agent_id": str(uuid.uuid4())}, "body.agent_id"),
        ({"role": "agent", "organization_id": str(uuid.uuid4())}, "body.organization_id"),
        ({"role": "superuser"}, "body.role"),
        ({"role": "agent", "password": "short"}, "body.password"),
        ({"role": "agent", "email": "not-an-address"}, "body.email"),
        ({"role": "agent", "id": str(uuid.uuid4())}, "body.id"),
        ({"role": "agent", "failed_logins": 0}, "body.failed_logins"),
    ],
)
async def test_bad_user_bodies_name_the_field_and_create_nothing(
    gateway: Gateway, body: dict[str, Any], field: str
) -> None:
    _, admin = await gateway.bearer("admin")
    email = new_email()
    response = await gateway.client.post("/api/v1/users", json={"email": email, "name": "X", **body}, headers=admin)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]
    listed = await gateway.client.get("/api/v1/users", params={"email": body.get("email", email)}, headers=admin)
    assert listed.json()["items"] == []


async def test_the_same_email_cannot_be_used_twice(gateway: Gateway) -> None:
    _, admin = await gateway.bearer("admin")
    existing = await gateway.user("agent")
    response = await gateway.client.post(
        "/api/v1/users", json={"email": existing["email"], "name": "Twin", "role": "agent"}, headers=admin
    )
    assert response.status_code == 409
    assert response.json()["type"].endswith("/email-taken")


async def test_an_agent_record_links_to_one_user_only(gateway: Gateway) -> None:
    _, admin = await gateway.bearer("admin")
    linked = await gateway.user("agent", agent_id=uuid.uuid4())
    response = await gateway.client.post(
        "/api/v1/users",
        json={"email": new_email(), "name": "Copy", "role": "agent", "agent_id": str(linked["agent_id"])},
        headers=admin,
    )
    assert response.status_code == 409


@pytest.mark.parametrize("role", ["agent", "light_agent", "end_user"])
async def test_only_admins_manage_users(gateway: Gateway, role: str) -> None:
    me, auth = await gateway.bearer(role)
    assert (await gateway.client.get("/api/v1/users", headers=auth)).status_code == 403
    promote = await gateway.client.patch(f"/api/v1/users/{me['id']}", json={"role": "admin"}, headers=auth)
    assert promote.status_code == 403
    assert (await gateway.client.get("/api/v1/auth/me", headers=auth)).json()["role"] == role


async def test_a_role_change_ends_the_users_logins(gateway: Gateway) -> None:
    _, admin = await gateway.bearer("admin")
    agent, agent_auth = await gateway.bearer("agent")
    changed = await gateway.client.patch(f"/api/v1/users/{agent['id']}", json={"role": "light_agent"}, headers=admin)
    assert changed.status_code == 200
    assert changed.json()["role"] == "light_agent"
    assert (await gateway.client.get("/api/v1/auth/me", headers=agent_auth)).status_code == 401


async def test_unknown_user_is_404_problem(gateway: Gateway) -> None:
    _, admin = await gateway.bearer("admin")
    response = await gateway.client.patch(f"/api/v1/users/{uuid.uuid4()}", json={"name": "x"}, headers=admin)
    assert response.status_code == 404
    assert response.json()["type"].endswith("/user-not-found")


async def test_users_page_through_with_a_cursor(gateway: Gateway) -> None:
    _, admin = await gateway.bearer("admin")
    for _ in range(3):
        await gateway.user("light_agent")
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, "role": "light_agent"}
        if cursor:
            params["cursor"] = cursor
        page = (await gateway.client.get("/api/v1/users", params=params, headers=admin)).json()
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) >= 3
    bad = await gateway.client.get("/api/v1/users", params={"cursor": "%%%"}, headers=admin)
    assert bad.status_code == 422
    too_big = await gateway.client.get("/api/v1/users", params={"limit": 1000}, headers=admin)
    assert too_big.status_code == 422


async def test_the_last_active_admin_cannot_be_demoted_or_disabled(db: Database, gateway: Gateway) -> None:
    service = IdentityService(gateway.settings)
    async with db.unit_of_work() as session:
        # Inside a transaction rolled back after the test: only this admin is left.
        await session.execute(update(users).where(users.c.role == "admin").values(active=False))
        email = new_email()
        assert await service.bootstrap_admin(session, email, PASSWORD, utcnow())
        (only,) = await service.list_users(session, after=None, limit=10, role="admin", email=email)
        with pytest.raises(LastAdmin):
            await service.update_user(session, only["id"], UserUpdate(role="agent"), utcnow())
        with pytest.raises(LastAdmin):
            await service.update_user(session, only["id"], UserUpdate(active=False), utcnow())


async def test_bootstrap_creates_an_admin_only_when_there_is_none(db: Database, gateway: Gateway) -> None:
    service = IdentityService(gateway.settings)
    async with db.unit_of_work() as session:
        await session.execute(update(users).where(users.c.role == "admin").values(active=False))
        first, second = new_email(), new_email()
        assert await service.bootstrap_admin(session, first, PASSWORD, utcnow()) is True
        assert await service.bootstrap_admin(session, second, PASSWORD, utcnow()) is False
        created = await service.list_users(session, after=None, limit=10, role=None, email=first)
        assert [row["role"] for row in created] == ["admin"]
        assert await service.list_users(session, after=None, limit=10, role=None, email=second) == []


async def test_an_end_user_takes_the_organization_of_their_case_core_contact(
    gateway: Gateway, upstream: Upstream
) -> None:
    _, admin = await gateway.bearer("admin")
    organization = uuid.uuid4()
    contact = upstream.add_contact(organization)
    created = await gateway.client.post(
        "/api/v1/users",
        json={"email": new_email(), "name": "Customer", "role": "end_user", "contact_id": str(contact)},
        headers=admin,
    )
    assert created.status_code == 201
    assert created.json()["organization_id"] == str(organization)


@pytest.mark.parametrize("case", ["unknown contact", "another organization"])
async def test_an_end_user_cannot_be_linked_to_a_contact_or_organization_that_is_not_theirs(
    gateway: Gateway, upstream: Upstream, case: str
) -> None:
    _, admin = await gateway.bearer("admin")
    contact = uuid.uuid4() if case == "unknown contact" else upstream.add_contact(uuid.uuid4())
    email = new_email()
    body: dict[str, Any] = {"email": email, "name": "C", "role": "end_user", "contact_id": str(contact)}
    if case == "another organization":
        body["organization_id"] = str(uuid.uuid4())
    response = await gateway.client.post("/api/v1/users", json=body, headers=admin)
    # A contact nobody has is a 404 naming the field (the kit's unknown reference); an organization
    # other than the contact's a 409 (the contact as it is now decides).
    assert response.status_code == (404 if case == "unknown contact" else 409)
    expected = "body.contact_id" if case == "unknown contact" else "body.organization_id"
    assert [error["field"] for error in response.json()["errors"]] == [expected]
    assert (await gateway.client.get("/api/v1/users", params={"email": email}, headers=admin)).json()["items"] == []


async def test_a_link_the_stored_role_refuses_is_a_409_and_one_the_body_refuses_a_422(
    gateway: Gateway, upstream: Upstream
) -> None:
    _, admin = await gateway.bearer("admin")
    agent = await gateway.user("agent")
    contact = str(upstream.add_contact(uuid.uuid4()))
    stored = await gateway.client.patch(f"/api/v1/users/{agent['id']}", json={"contact_id": contact}, headers=admin)
    assert stored.status_code == 409
    assert stored.json()["type"].endswith("/link-conflict")
    assert [error["field"] for error in stored.json()["errors"]] == ["body.contact_id"]
    in_body = await gateway.client.patch(
        f"/api/v1/users/{agent['id']}", json={"role": "agent", "contact_id": contact}, headers=admin
    )
    assert in_body.status_code == 422
    assert [error["field"] for error in in_body.json()["errors"]] == ["body.contact_id"]
    fetched = await gateway.client.get(f"/api/v1/users/{agent['id']}", headers=admin)
    assert fetched.json()["contact_id"] is None
    assert fetched.json()["role"] == "agent"


async def test_an_agent_is_linked_to_the_routing_record_keyed_by_their_user_id(gateway: Gateway) -> None:
    _, admin = await gateway.bearer("admin")
    created = await gateway.client.post(
        "/api/v1/users", json={"email": new_email(), "name": "Agent", "role": "agent"}, headers=admin
    )
    assert created.json()["agent_id"] == created.json()["id"]
    promoted = await gateway.client.patch(
        f"/api/v1/users/{created.json()['id']}", json={"role": "admin"}, headers=admin
    )
    assert promoted.status_code == 200
    assert promoted.json()["agent_id"] is None
