"""Logins, token rotation and revocation, lockout, bad tokens, API tokens and their scopes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from omnicase.gateway.identity.repository import SessionRepository
from omnicase.gateway.identity.tokens import issue_access_token
from omnicase.gateway.testing import Gateway, Upstream
from omnicase.kit.clock import utcnow

pytestmark = pytest.mark.asyncio


async def test_password_login_gives_tokens_that_open_the_api(gateway: Gateway) -> None:
    user = await gateway.user("agent")
    response = await gateway.login(user)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    tokens = response.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == gateway.settings.access_token_seconds
    assert "cases:write" in tokens["scope"].split()
    me = await gateway.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200
    assert me.json()["id"] == str(user["id"])
    assert me.json()["role"] == "agent"


async def test_login_is_case_insensitive_on_email(gateway: Gateway) -> None:
    user = await gateway.user("agent")
    response = await gateway.login({**user, "email": user["email"].upper()})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
        ({"grant_type": "password", "username": "x@example.test"}, "invalid_request"),
        ({"grant_type": "refresh_token"}, "invalid_request"),
        ({"grant_type": "password", "username": "nobody@example.test", "password": "whatever-at-all"}, "invalid_grant"),
        ({"grant_type": "refresh_token", "refresh_token": "ocr_made-up"}, "invalid_grant"),
    ],
)
async def test_bad_token_requests_are_oauth_problems(gateway: Gateway, form: dict[str, str], error: str) -> None:
    response = await gateway.client.post("/api/v1/auth/token", data=form)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["error"] == error


async def test_token_request_as_json_is_refused(gateway: Gateway) -> None:
    user = await gateway.user("agent")
    response = await gateway.client.post(
        "/api/v1/auth/token",
        json={"grant_type": "password", "username": user["email"], "password": user["password"]},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_repeated_wrong_passwords_lock_the_account_even_for_the_right_password(gateway: Gateway) -> None:
    user = await gateway.user("agent")
    for _ in range(gateway.settings.lockout_threshold):
        wrong = await gateway.login({**user, "password": "not the password at all"})
        assert wrong.status_code == 400
        assert wrong.json()["error"] == "invalid_grant"
    locked = await gateway.login(user)
    assert locked.status_code == 400
    assert "locked" in locked.json()["detail"]

    _, admin_auth = await gateway.bearer("admin")
    unlocked = await gateway.client.patch(f"/api/v1/users/{user['id']}", json={"unlock": True}, headers=admin_auth)
    assert unlocked.status_code == 200
    assert unlocked.json()["locked_until"] is None
    assert (await gateway.login(user)).status_code == 200


async def test_a_successful_login_resets_the_failure_count(gateway: Gateway) -> None:
    user = await gateway.user("agent")
    for _ in range(gateway.settings.lockout_threshold - 1):
        await gateway.login({**user, "password": "not the password at all"})
    assert (await gateway.login(user)).status_code == 200
    for _ in range(gateway.settings.lockout_threshold - 1):
        await gateway.login({**user, "password": "not the password at all"})
    assert (await gateway.login(user)).status_code == 200


async def test_refresh_rotates_and_a_reused_refresh_token_ends_the_login(gateway: Gateway) -> None:
    user = await gateway.user("agent")
    first = (await gateway.login(user)).json()
    rotated = await gateway.client.post(
        "/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert rotated.status_code == 200
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]

    replay = await gateway.client.post(
        "/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert replay.status_code == 400
    assert "already used" in replay.json()["detail"]
    # The whole login is over: the newest tokens of that login stop working too.
    me = await gateway.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {second['access_token']}"})
    assert me.status_code == 401
    again = await gateway.client.post(
        "/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": second["refresh_token"]}
    )
    assert again.status_code == 400


async def test_a_revocation_ignores_parameters_it_does_not_read_but_refuses_its_own_twice(gateway: Gateway) -> None:
    user = await gateway.user("agent")
    tokens = (await gateway.login(user)).json()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    twice = await gateway.client.post(
        "/api/v1/auth/revoke", content=f"token={tokens['refresh_token']}&token=x", headers=form
    )
    assert twice.status_code == 400
    assert twice.json()["error"] == "invalid_request"
    # RFC 6749 3.1: parameters the endpoint does not know are ignored, however often they come.
    extra = await gateway.client.post(
        "/api/v1/auth/revoke", content=f"token={tokens['refresh_token']}&%25=1&%25=2&x=", headers=form
    )
    assert extra.status_code == 200, extra.text


async def test_revoked_access_token_is_refused_at_once(gateway: Gateway, upstream: Upstream) -> None:
    user = await gateway.user("agent")
    tokens = (await gateway.login(user)).json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await gateway.client.get("/api/v1/cases", headers=auth)).status_code == 200
    revoked = await gateway.client.post("/api/v1/auth/revoke", data={"token": tokens["refresh_token"]})
    assert revoked.status_code == 200
    seen = len(upstream.requests)
    refused = await gateway.client.get("/api/v1/cases", headers=auth)
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    assert len(upstream.requests) == seen


async def test_expired_access_token_is_refused(gateway: Gateway) -> None:
    user = await gateway.user("agent")
    await gateway.login(user)
    async with gateway.app.state.runtime.database.engine.connect() as connection:
        from sqlalchemy import select

        from omnicase.gateway.models import sessions

        session_id = (await connection.execute(select(sessions.c.id).where(sessions.c.user_id == user["id"]))).scalar()
    stale = issue_access_token(
        user["id"], session_id, gateway.settings.token_secret, utcnow() - timedelta(hours=1), ttl=60
    )
    response = await gateway.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {stale}"})
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Basic dXNlcjpwYXNz",
        "Bearer ",
        "Bearer not-a-token",
        "Bearer eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.eyJzdWIiOiJ4In0.",
        "Bearer oct_made-up-api-token",
    ],
)
async def test_missing_or_bad_bearer_is_401_and_nothing_reaches_the_service(
    gateway: Gateway, upstream: Upstream, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await gateway.client.get("/api/v1/cases", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert upstream.requests == []


async def test_access_token_signed_with_another_secret_is_refused(gateway: Gateway) -> None:
    user = await gateway.user("agent")
    forged = issue_access_token(user["id"], uuid.uuid4(), "x" * 40, utcnow(), ttl=600)
    response = await gateway.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


async def test_disabling_a_user_ends_their_logins(gateway: Gateway) -> None:
    user, auth = await gateway.bearer("agent")
    _, admin_auth = await gateway.bearer("admin")
    disabled = await gateway.client.patch(f"/api/v1/users/{user['id']}", json={"active": False}, headers=admin_auth)
    assert disabled.status_code == 200
    assert (await gateway.client.get("/api/v1/auth/me", headers=auth)).status_code == 401
    assert (await gateway.login(user)).status_code == 400


async def test_login_can_ask_for_fewer_scopes_but_not_more(gateway: Gateway, upstream: Upstream) -> None:
    user = await gateway.user("agent")
    narrow = await gateway.login(user, scope="cases:read")
    assert narrow.json()["scope"] == "cases:read"
    auth = {"Authorization": f"Bearer {narrow.json()['access_token']}"}
    assert (await gateway.client.get("/api/v1/cases", headers=auth)).status_code == 200
    assert (await gateway.client.post("/api/v1/cases", json={"subject": "x"}, headers=auth)).status_code == 403

    wider = await gateway.login(user, scope="users:write")
    assert wider.status_code == 400
    assert wider.json()["error"] == "invalid_scope"


async def _api_token(gateway: Gateway, admin_auth: dict[str, str], scopes: list[str]) -> dict[str, Any]:
    response = await gateway.client.post(
        "/api/v1/api-tokens", json={"name": "CRM sync", "scopes": scopes}, headers=admin_auth
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_api_token_is_shown_once_and_works_within_its_scopes(gateway: Gateway, upstream: Upstream) -> None:
    _, admin_auth = await gateway.bearer("admin")
    created = await _api_token(gateway, admin_auth, ["cases:read"])
    assert created["token"].startswith("oct_")
    listed = await gateway.client.get("/api/v1/api-tokens?limit=100", headers=admin_auth)
    assert all("token" not in item for item in listed.json()["items"])

    auth = {"Authorization": f"Bearer {created['token']}"}
    assert (await gateway.client.get("/api/v1/cases", headers=auth)).status_code == 200
    denied = await gateway.client.post("/api/v1/cases", json={"subject": "x"}, headers=auth)
    assert denied.status_code == 403
    assert denied.json()["required_scope"] == "cases:write"
    assert (await gateway.client.get("/api/v1/agents", headers=auth)).status_code == 403
    assert (await gateway.client.get("/api/v1/users", headers=auth)).status_code == 403


async def test_an_api_token_lives_the_seconds_it_was_given(gateway: Gateway) -> None:
    _, admin_auth = await gateway.bearer("admin")
    before = datetime.now(UTC)
    response = await gateway.client.post(
        "/api/v1/api-tokens", json={"name": "CI", "scopes": ["cases:read"], "expires_in": 3600}, headers=admin_auth
    )
    assert response.status_code == 201, response.text
    expires_at = datetime.fromisoformat(response.json()["expires_at"])
    assert before + timedelta(seconds=3590) < expires_at < datetime.now(UTC) + timedelta(seconds=3610)
    endless = await _api_token(gateway, admin_auth, ["cases:read"])
    assert endless["expires_at"] is None


async def test_revoked_api_token_is_refused(gateway: Gateway) -> None:
    _, admin_auth = await gateway.bearer("admin")
    created = await _api_token(gateway, admin_auth, ["cases:read"])
    auth = {"Authorization": f"Bearer {created['token']}"}
    assert (await gateway.client.get("/api/v1/auth/me", headers=auth)).status_code == 200
    revoked = await gateway.client.delete(f"/api/v1/api-tokens/{created['id']}", headers=admin_auth)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    response = await gateway.client.get("/api/v1/cases", headers=auth)
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "scopes": ["cases:delete-everything"]}, "body.scopes"),
        ({"name": "x", "scopes": []}, "body.scopes"),
        ({"name": "", "scopes": ["cases:read"]}, "body.name"),
        ({"name": "x", "scopes": ["cases:read"], "created_by": str(uuid.uuid4())}, "body.created_by"),
        ({"name": "x", "scopes": ["cases:read"], "expires_in": 0}, "body.expires_in"),
        ({"name": "x", "scopes": ["cases:read"], "expires_at": "2001-01-01T00:00:00Z"}, "body.expires_at"),
    ],
)
async def test_bad_api_token_requests_name_the_field_and_create_nothing(
    gateway: Gateway, body: dict[str, Any], field: str
) -> None:
    _, admin_auth = await gateway.bearer("admin")
    before = (await gateway.client.get("/api/v1/api-tokens?limit=100", headers=admin_auth)).json()["items"]
    response = await gateway.client.post("/api/v1/api-tokens", json=body, headers=admin_auth)
    assert response.status_code == 422
    assert field in [error["field"] for error in response.json()["errors"]]
    after = (await gateway.client.get("/api/v1/api-tokens?limit=100", headers=admin_auth)).json()["items"]
    assert len(after) == len(before)


async def test_only_admin_users_manage_api_tokens(gateway: Gateway) -> None:
    _, agent_auth = await gateway.bearer("agent")
    response = await gateway.client.post(
        "/api/v1/api-tokens", json={"name": "mine", "scopes": ["cases:read"]}, headers=agent_auth
    )
    assert response.status_code == 403
    _, admin_auth = await gateway.bearer("admin")
    token = await _api_token(gateway, admin_auth, ["users:write", "cases:read"])
    minted = await gateway.client.post(
        "/api/v1/api-tokens",
        json={"name": "child", "scopes": ["cases:read"]},
        headers={"Authorization": f"Bearer {token['token']}"},
    )
    assert minted.status_code == 403


async def test_users_change_their_own_password_and_their_other_logins_end(gateway: Gateway) -> None:
    user = await gateway.user("agent")
    other = (await gateway.login(user)).json()
    this = (await gateway.login(user)).json()
    auth = {"Authorization": f"Bearer {this['access_token']}"}
    wrong = await gateway.client.post(
        "/api/v1/auth/password",
        json={"current_password": "not it at all", "new_password": "a brand new passphrase"},
        headers=auth,
    )
    # Not shown to be the account's owner: a 403 naming the field (the body itself is well formed).
    assert wrong.status_code == 403
    assert wrong.json()["type"].endswith("/wrong-current-password")
    assert wrong.json()["errors"][0]["field"] == "body.current_password"
    changed = await gateway.client.post(
        "/api/v1/auth/password",
        json={"current_password": user["password"], "new_password": "a brand new passphrase"},
        headers=auth,
    )
    assert changed.status_code == 204
    assert (await gateway.client.get("/api/v1/auth/me", headers=auth)).status_code == 200
    other_auth = {"Authorization": f"Bearer {other['access_token']}"}
    assert (await gateway.client.get("/api/v1/auth/me", headers=other_auth)).status_code == 401
    assert (await gateway.login(user)).status_code == 400
    assert (await gateway.login({**user, "password": "a brand new passphrase"})).status_code == 200


async def test_expired_refresh_tokens_and_finished_logins_are_purged(gateway: Gateway) -> None:
    user = await gateway.user("agent")
    tokens = (await gateway.login(user)).json()
    later = utcnow() + timedelta(days=gateway.settings.refresh_token_days + 1)
    async with gateway.app.state.runtime.database.unit_of_work() as session:
        deleted_tokens, deleted_logins = await SessionRepository(session).purge(later, keep_revoked=timedelta(days=30))
    assert deleted_tokens >= 1
    assert deleted_logins >= 1
    refreshed = await gateway.client.post(
        "/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 400
    me = await gateway.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 401


async def test_a_live_login_survives_the_purge(gateway: Gateway) -> None:
    user = await gateway.user("agent")
    tokens = (await gateway.login(user)).json()
    async with gateway.app.state.runtime.database.unit_of_work() as session:
        await SessionRepository(session).purge(utcnow(), keep_revoked=timedelta(days=30))
    me = await gateway.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200


async def test_an_admin_login_narrowed_to_reading_cases_cannot_manage_users_or_tokens(gateway: Gateway) -> None:
    admin = await gateway.user("admin")
    narrow = (await gateway.login(admin, scope="cases:read")).json()
    auth = {"Authorization": f"Bearer {narrow['access_token']}"}
    assert (await gateway.client.get("/api/v1/users", headers=auth)).status_code == 403
    created = await gateway.client.post(
        "/api/v1/api-tokens", json={"name": "x", "scopes": ["cases:read"]}, headers=auth
    )
    assert created.status_code == 403
    assert created.json()["required_scope"] == "users:write"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [("PUT", "/api/v1/auth/me", "GET"), ("PUT", "/api/v1/auth/token", "POST"), ("PUT", "/healthz", "GET")],
)
async def test_a_gateway_path_asked_with_another_method_is_a_405_naming_its_methods(
    gateway: Gateway, method: str, path: str, allowed: str
) -> None:
    response = await gateway.client.request(method, path)
    assert response.status_code == 405, response.text
    assert response.headers["allow"] == allowed
    assert response.json()["type"].endswith("/method-not-allowed")
