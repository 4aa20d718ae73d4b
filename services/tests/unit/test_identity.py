"""The gateway's internal identity token: signed, short-lived, checked by services."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from omnicase.kit.errors import install_error_handlers
from omnicase.kit.identity import (
    IDENTITY_HEADER,
    CurrentIdentity,
    InvalidToken,
    RequireIdentityMiddleware,
    hs256_encode,
    sign_identity,
    verify_identity,
)
from omnicase.kit.settings import ServiceSettings

SECRET = "a-test-secret-of-enough-length"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def end_user_token(**overrides: object) -> str:
    values: dict[str, object] = {
        "subject": "u-1",
        "role": "end_user",
        "secret": SECRET,
        "now": NOW,
        "scopes": {"cases:read"},
        "contact_id": uuid.UUID(int=7),
        "organization_id": uuid.UUID(int=9),
        "organization_cases": True,
    }
    values.update(overrides)
    return sign_identity(**values)  # type: ignore[arg-type]


def test_signed_identity_round_trips_with_every_claim() -> None:
    identity = verify_identity(end_user_token(), SECRET, NOW + timedelta(seconds=30))
    assert identity.subject == "u-1"
    assert identity.role == "end_user"
    assert identity.has_scope("cases:read")
    assert not identity.has_scope("cases:write")
    assert identity.contact_id == uuid.UUID(int=7)
    assert identity.organization_id == uuid.UUID(int=9)
    assert identity.organization_cases is True
    assert identity.agent_id is None
    assert identity.expires_at == NOW + timedelta(seconds=60)


def test_expired_identity_is_refused() -> None:
    token = end_user_token(ttl_seconds=60)
    with pytest.raises(InvalidToken, match="expired"):
        verify_identity(token, SECRET, NOW + timedelta(seconds=90))


def test_identity_signed_with_another_secret_is_refused() -> None:
    with pytest.raises(InvalidToken, match="signature"):
        verify_identity(end_user_token(secret="another-secret-of-enough-length"), SECRET, NOW)


def test_tampered_claims_are_refused() -> None:
    header, payload, signature = end_user_token().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidToken, match="signature"):
        verify_identity(f"{header}.{forged}.{signature}", SECRET, NOW)


def test_unsigned_alg_none_token_is_refused() -> None:
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"omnicase-identity"}').rstrip(b"=").decode()
    payload = end_user_token().split(".")[1]
    with pytest.raises(InvalidToken, match="algorithm"):
        verify_identity(f"{header}.{payload}.x", SECRET, NOW)


def test_a_token_of_another_type_cannot_pass_for_an_identity() -> None:
    token = hs256_encode({"sub": "u-1", "role": "admin", "exp": 2_000_000_000}, SECRET, typ="at+jwt")
    with pytest.raises(InvalidToken, match="type"):
        verify_identity(token, SECRET, NOW)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b", "a.b.c", "!!.??.##"])
def test_garbage_is_refused_with_invalid_token(garbage: str) -> None:
    with pytest.raises(InvalidToken):
        verify_identity(garbage, SECRET, NOW)


def service_app() -> FastAPI:
    app = FastAPI()
    app.state.settings = ServiceSettings(internal_secret=SECRET)
    install_error_handlers(app)

    @app.get("/whoami")
    async def whoami(identity: CurrentIdentity) -> dict[str, str]:
        return {"subject": identity.subject, "role": identity.role}

    return app


@pytest.mark.asyncio
async def test_dependency_admits_a_valid_identity_and_refuses_a_missing_or_forged_one() -> None:
    transport = httpx.ASGITransport(app=service_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        now = datetime.now(UTC)
        good = await client.get("/whoami", headers={IDENTITY_HEADER: end_user_token(now=now)})
        assert good.json() == {"subject": "u-1", "role": "end_user"}

        missing = await client.get("/whoami")
        assert missing.status_code == 401
        assert missing.headers["content-type"] == "application/problem+json"

        forged = await client.get(
            "/whoami", headers={IDENTITY_HEADER: end_user_token(now=now, secret="x" * 20, role="admin")}
        )
        assert forged.status_code == 401
        assert "signature" in forged.json()["detail"]

        stale = await client.get("/whoami", headers={IDENTITY_HEADER: end_user_token(now=now - timedelta(hours=1))})
        assert stale.status_code == 401
        assert "expired" in stale.json()["detail"]


@pytest.mark.asyncio
async def test_middleware_refuses_api_requests_that_did_not_come_through_the_gateway() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/api/v1/things")
    async def things() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/public/forms/1")
    async def form() -> dict[str, str]:
        return {"ok": "public"}

    app.add_middleware(RequireIdentityMiddleware, secret=SECRET)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        bare = await client.get("/api/v1/things")
        assert bare.status_code == 401
        assert bare.headers["content-type"] == "application/problem+json"
        forged = await client.get("/api/v1/things", headers={IDENTITY_HEADER: end_user_token(secret="y" * 20)})
        assert forged.status_code == 401
        good = await client.get("/api/v1/things", headers={IDENTITY_HEADER: end_user_token(now=datetime.now(UTC))})
        assert good.json() == {"ok": "yes"}
        assert (await client.get("/public/forms/1")).json() == {"ok": "public"}
