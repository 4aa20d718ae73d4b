"""Access through the proxy: forwarded identity, customers' own cases only, mass assignment, light agents, caps."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from omnicase.gateway.testing import Gateway, Upstream
from omnicase.kit.clock import utcnow
from omnicase.kit.identity import IDENTITY_HEADER, sign_identity, verify_identity

pytestmark = pytest.mark.asyncio


async def test_services_receive_a_signed_identity_and_never_the_bearer_token(
    gateway: Gateway, upstream: Upstream
) -> None:
    user, auth = await gateway.bearer("agent", agent_id=uuid.uuid4())
    response = await gateway.client.get("/api/v1/cases", headers=auth)
    assert response.status_code == 200
    forwarded = upstream.last.headers
    assert "authorization" not in forwarded
    identity = verify_identity(forwarded[IDENTITY_HEADER], gateway.settings.internal_secret, utcnow())
    assert identity.subject == str(user["id"])
    assert identity.role == "agent"
    assert identity.agent_id == user["agent_id"]
    assert "cases:write" in identity.scopes


async def test_an_identity_header_sent_by_a_client_never_reaches_a_service(
    gateway: Gateway, upstream: Upstream
) -> None:
    user, auth = await gateway.bearer("end_user")
    forged = sign_identity(subject="x", role="admin", secret=gateway.settings.internal_secret, now=utcnow())
    await gateway.client.get(
        "/api/v1/cases", headers={**auth, IDENTITY_HEADER: forged, "X-Omnicase-User": str(uuid.uuid4())}
    )
    identity = verify_identity(upstream.last.headers[IDENTITY_HEADER], gateway.settings.internal_secret, utcnow())
    assert identity.role == "end_user"
    assert identity.contact_id == user["contact_id"]
    assert "x-omnicase-user" not in upstream.last.headers  # a client-sent X-Omnicase-* header never passes


async def test_public_routes_pass_without_a_token_and_without_an_identity(gateway: Gateway, upstream: Upstream) -> None:
    gateway.app.state.runtime.state.service_urls["intake-web"] = upstream.url
    response = await gateway.client.post(
        "/public/forms/contact/submissions", json={"x": 1}, headers={IDENTITY_HEADER: "forged"}
    )
    # The stand-in has no such route: what matters is that the gateway let it through, bare.
    assert response.status_code == 404
    assert upstream.last.url.path == "/public/forms/contact/submissions"
    assert IDENTITY_HEADER.lower() not in upstream.last.headers


async def test_a_guessed_case_id_is_404_for_a_customer_and_reveals_nothing(
    gateway: Gateway, upstream: Upstream
) -> None:
    me, auth = await gateway.bearer("end_user")
    mine = upstream.add_case(me["contact_id"])
    theirs = upstream.add_case(uuid.uuid4())
    assert (await gateway.client.get(f"/api/v1/cases/{mine}", headers=auth)).json()["id"] == mine

    for path in (f"/api/v1/cases/{theirs}", f"/api/v1/cases/{theirs}/messages", f"/api/v1/cases/{uuid.uuid4()}"):
        response = await gateway.client.get(path, headers=auth)
        assert response.status_code == 404, path
        assert "requester_id" not in response.text
    posted = await gateway.client.post(f"/api/v1/cases/{theirs}/messages", json={"body": "hi"}, headers=auth)
    assert posted.status_code == 404
    assert upstream.messages == []


async def test_a_customer_lists_only_their_own_cases_even_if_the_service_ignores_the_filter(
    gateway: Gateway, upstream: Upstream
) -> None:
    me, auth = await gateway.bearer("end_user")
    mine = upstream.add_case(me["contact_id"])
    upstream.add_case(uuid.uuid4())
    response = await gateway.client.get(f"/api/v1/cases?requester_id={uuid.uuid4()}", headers=auth)
    assert response.status_code == 200
    assert [case["id"] for case in response.json()["items"]] == [mine]
    assert upstream.last.query_params.getlist("requester_id") == [str(me["contact_id"])]


async def test_a_customer_sees_the_organization_cases_only_where_it_is_allowed(
    gateway: Gateway, upstream: Upstream
) -> None:
    organization = uuid.uuid4()
    colleague_case = upstream.add_case(uuid.uuid4(), organization)
    _, sharing = await gateway.bearer("end_user", organization_id=organization, organization_cases=True)
    _, private = await gateway.bearer("end_user", organization_id=organization)
    assert (await gateway.client.get(f"/api/v1/cases/{colleague_case}", headers=sharing)).status_code == 200
    assert (await gateway.client.get(f"/api/v1/cases/{colleague_case}", headers=private)).status_code == 404
    listed = await gateway.client.get("/api/v1/cases", headers=private)
    assert colleague_case not in [case["id"] for case in listed.json()["items"]]


async def test_a_customer_never_sees_internal_notes(gateway: Gateway, upstream: Upstream) -> None:
    me, auth = await gateway.bearer("end_user")
    mine = upstream.add_case(me["contact_id"])
    response = await gateway.client.get(f"/api/v1/cases/{mine}/messages?public_only=false", headers=auth)
    assert response.status_code == 200
    assert [message["public"] for message in response.json()["items"]] == [True]
    assert upstream.last.query_params.getlist("public_only") == ["true"]


async def test_a_customer_opens_a_case_for_themselves_only(gateway: Gateway, upstream: Upstream) -> None:
    me, auth = await gateway.bearer("end_user")
    created = await gateway.client.post(
        "/api/v1/cases", json={"subject": "Printer on fire", "description": "Smoke."}, headers=auth
    )
    assert created.status_code == 201
    # Who the case is for comes from the signed identity, never from the body.
    assert set(created.json()) == {"id", "organization_id", "subject", "description"}
    identity = verify_identity(upstream.last.headers[IDENTITY_HEADER], gateway.settings.internal_secret, utcnow())
    assert identity.contact_id == me["contact_id"]


@pytest.mark.parametrize(
    "extra",
    [
        {"requester_id": str(uuid.uuid4())},
        {"organization_id": str(uuid.uuid4())},
        {"assignee_id": str(uuid.uuid4())},
        {"priority": "urgent", "tags": ["vip"]},
        {"id": str(uuid.uuid4())},
    ],
)
async def test_fields_a_customer_may_not_set_are_refused_not_ignored(
    gateway: Gateway, upstream: Upstream, extra: dict[str, object]
) -> None:
    _, auth = await gateway.bearer("end_user")
    response = await gateway.client.post("/api/v1/cases", json={"subject": "x", **extra}, headers=auth)
    assert response.status_code == 422
    assert {error["field"] for error in response.json()["errors"]} == {f"body.{name}" for name in extra}
    assert {error["code"] for error in response.json()["errors"]} == {"forbidden_field"}
    assert upstream.requests == []
    assert upstream.cases == {}


async def test_a_customer_cannot_post_an_internal_note(gateway: Gateway, upstream: Upstream) -> None:
    me, auth = await gateway.bearer("end_user")
    mine = upstream.add_case(me["contact_id"])
    response = await gateway.client.post(
        f"/api/v1/cases/{mine}/messages", json={"body": "hi", "public": False}, headers=auth
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.public"
    reply = await gateway.client.post(f"/api/v1/cases/{mine}/messages", json={"body": "thanks"}, headers=auth)
    assert reply.status_code == 201
    assert upstream.messages == [{"body": "thanks"}]


@pytest.mark.parametrize("body", [{"body": "We fixed it"}, {"body": "We fixed it", "public": True}])
async def test_light_agents_cannot_post_public_replies(
    gateway: Gateway, upstream: Upstream, body: dict[str, object]
) -> None:
    _, auth = await gateway.bearer("light_agent")
    response = await gateway.client.post("/api/v1/cases/42/messages", json=body, headers=auth)
    assert response.status_code == 403
    assert "internal notes only" in response.json()["detail"]
    assert upstream.messages == []


async def test_light_agents_post_internal_notes(gateway: Gateway, upstream: Upstream) -> None:
    _, auth = await gateway.bearer("light_agent")
    response = await gateway.client.post(
        "/api/v1/cases/42/messages", json={"body": "Checked the logs", "public": False}, headers=auth
    )
    assert response.status_code == 201
    assert upstream.messages == [{"body": "Checked the logs", "public": False}]


async def test_guarded_bodies_must_be_json_objects(gateway: Gateway, upstream: Upstream) -> None:
    _, auth = await gateway.bearer("light_agent")
    for content in (b"not json", b"[1, 2]"):
        response = await gateway.client.post(
            "/api/v1/cases/42/messages", content=content, headers={**auth, "Content-Type": "application/json"}
        )
        assert response.status_code == 400
    assert upstream.requests == []


async def test_agents_change_their_own_agent_record_only(gateway: Gateway, upstream: Upstream) -> None:
    me, auth = await gateway.bearer("agent", agent_id=uuid.uuid4())
    own = await gateway.client.put(f"/api/v1/agents/{me['agent_id']}/presence", json={"s": 1}, headers=auth)
    assert own.status_code == 200
    other = await gateway.client.put(f"/api/v1/agents/{uuid.uuid4()}/presence", json={"s": 1}, headers=auth)
    assert other.status_code == 403


async def test_page_sizes_above_the_cap_are_refused(gateway: Gateway, upstream: Upstream) -> None:
    _, auth = await gateway.bearer("agent")
    response = await gateway.client.get(f"/api/v1/cases?limit={gateway.settings.max_page_size + 1}", headers=auth)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.limit"
    assert upstream.requests == []
    assert (await gateway.client.get("/api/v1/cases?limit=5", headers=auth)).status_code == 200


async def test_bodies_above_the_cap_are_refused(gateway_with: Any, upstream: Upstream) -> None:
    cap = 64 * 1024
    async with gateway_with(max_body_bytes=cap) as gateway:
        _, auth = await gateway.bearer("agent")
        declared = await gateway.client.post(
            "/api/v1/cases/1/messages", content=b"x" * (cap + 1), headers={**auth, "Content-Type": "text/plain"}
        )
        assert declared.status_code == 413

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(cap // 1024 + 1):
                yield b"x" * 1024

        streamed = await gateway.client.post("/api/v1/cases/1/messages", content=chunks(), headers=auth)
        assert streamed.status_code == 413
        assert upstream.messages == []
        fits = await gateway.client.post("/api/v1/cases/1/messages", json={"body": "x" * (cap // 2)}, headers=auth)
        assert fits.status_code == 201


async def test_a_light_agent_note_with_an_attachment_streams_through(gateway: Gateway, upstream: Upstream) -> None:
    _, auth = await gateway.bearer("light_agent")
    screenshot = bytes(range(256)) * 8192  # 2 MiB: spooled to disk, not kept in memory
    response = await gateway.client.post(
        "/api/v1/cases/42/messages",
        data={"text": "See the screenshot", "public": "false"},
        files={"attachments": ("screen.png", screenshot, "image/png")},
        headers=auth,
    )
    assert response.status_code == 201
    assert upstream.messages == [{"text": "See the screenshot", "public": "false", "attachments": len(screenshot)}]


async def test_a_light_agent_cannot_make_a_public_reply_through_a_multipart_form(
    gateway: Gateway, upstream: Upstream
) -> None:
    _, auth = await gateway.bearer("light_agent")
    for data in ({"text": "Fixed", "public": "true"}, {"text": "Fixed"}):
        response = await gateway.client.post(
            "/api/v1/cases/42/messages", data=data, files={"attachments": ("a.txt", b"x", "text/plain")}, headers=auth
        )
        assert response.status_code == 403
    assert upstream.messages == []


async def test_a_customer_replies_with_an_attachment_to_their_own_case_only(
    gateway: Gateway, upstream: Upstream
) -> None:
    me, auth = await gateway.bearer("end_user")
    mine = upstream.add_case(me["contact_id"])
    theirs = upstream.add_case(uuid.uuid4())
    files = {"attachments": ("photo.jpg", b"\xff\xd8" + b"x" * 4096, "image/jpeg")}
    refused = await gateway.client.post(
        f"/api/v1/cases/{theirs}/messages", data={"text": "hi", "public": "true"}, files=files, headers=auth
    )
    assert refused.status_code == 404
    note = await gateway.client.post(
        f"/api/v1/cases/{mine}/messages", data={"text": "hi", "public": "false"}, files=files, headers=auth
    )
    assert note.status_code == 422
    reply = await gateway.client.post(
        f"/api/v1/cases/{mine}/messages", data={"text": "hi", "public": "true"}, files=files, headers=auth
    )
    assert reply.status_code == 201
    assert upstream.messages == [{"text": "hi", "public": "true", "attachments": 4098}]
