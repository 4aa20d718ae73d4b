"""Who may do what: the gateway's signed identity and its scopes."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from omnicase.case_core.settings import CaseCoreSettings
from omnicase.case_core.testing import Deliver, Email, Published, identity_headers
from omnicase.kit.events import ChangeCase, RecordCaseAccess

pytestmark = pytest.mark.asyncio


async def test_requests_without_a_valid_gateway_identity_are_401(api: httpx.AsyncClient) -> None:
    for headers in ({"X-Omnicase-Identity": ""}, {"X-Omnicase-Identity": "forged.token.here"}):
        response = await api.get("/api/v1/cases", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")
    wrong_secret = identity_headers("another-secret-entirely")
    assert (await api.post("/api/v1/cases", json={"subject": "x"}, headers=wrong_secret)).status_code == 401


async def test_light_agents_may_add_notes_but_not_replies_or_changes(
    api: httpx.AsyncClient, settings: CaseCoreSettings
) -> None:
    case = (
        await api.post("/api/v1/cases", json={"subject": "Scoped", "requester": {"email": "s@scoped.example"}})
    ).json()
    light = identity_headers(
        settings.internal_secret, role="light_agent", scopes=frozenset({"cases:read", "cases:notes", "contacts:read"})
    )
    url = f"/api/v1/cases/{case['id']}/messages"
    assert (await api.post(url, json={"text": "note", "public": False}, headers=light)).status_code == 201
    reply = await api.post(url, json={"text": "reply", "public": True}, headers=light)
    assert reply.status_code == 403
    change = await api.patch(
        f"/api/v1/cases/{case['id']}", json={"priority": "low"}, headers={**light, "If-Match": '"1"'}
    )
    assert change.status_code == 403
    assert change.json()["required_scope"] == "cases:write"
    assert (await api.get(f"/api/v1/cases/{case['id']}", headers=light)).status_code == 200
    texts = [message["text"] for message in (await api.get(url)).json()["items"]]
    assert texts == ["note"]


async def test_customers_and_agents_without_admin_rights_are_refused_where_they_must_be(
    api: httpx.AsyncClient, settings: CaseCoreSettings
) -> None:
    unlinked = identity_headers(settings.internal_secret, role="end_user", scopes=frozenset({"cases:read"}))
    assert (await api.get("/api/v1/cases", headers=unlinked)).status_code == 403
    agent = identity_headers(settings.internal_secret, role="agent")
    field = {"key": "agent_made", "label": "x", "type": "text"}
    assert (await api.post("/api/v1/custom-fields", json=field, headers=agent)).status_code == 403
    integration = identity_headers(
        settings.internal_secret, role="integration", kind="api_token", scopes=frozenset({"cases:read"})
    )
    assert (await api.get("/api/v1/cases", headers=integration)).status_code == 200
    assert (await api.post("/api/v1/contacts", json={"name": "x"}, headers=integration)).status_code == 403


async def customer_case(api: httpx.AsyncClient, deliver: Deliver, email: Email, sender: str) -> dict[str, Any]:
    await deliver(email(sender, f"Help for {sender}"))
    [contact] = (await api.get("/api/v1/contacts", params={"q": sender})).json()["items"]
    [case] = (await api.get(f"/api/v1/contacts/{contact['id']}/cases")).json()["items"]
    return dict(case)


def customer_headers(settings: CaseCoreSettings, case: dict[str, Any], **extra: Any) -> dict[str, str]:
    return identity_headers(
        settings.internal_secret,
        role="end_user",
        scopes=frozenset({"cases:read", "cases:write"}),
        contact_id=uuid.UUID(case["requester_id"]),
        **extra,
    )


async def test_customers_see_only_their_own_cases_and_public_messages(
    api: httpx.AsyncClient, settings: CaseCoreSettings, deliver: Deliver, email: Email, published: Published
) -> None:
    mine = await customer_case(api, deliver, email, f"me-{uuid.uuid4().hex[:6]}@portal.example")
    theirs = await customer_case(api, deliver, email, f"them-{uuid.uuid4().hex[:6]}@portal.example")
    note = await api.post(
        f"/api/v1/cases/{mine['id']}/messages",
        data={"text": "internal: difficult customer", "public": "false"},
        files=[("attachments", ("secret.txt", b"secret", "text/plain"))],
    )
    assert note.status_code == 201
    current = await api.get(f"/api/v1/cases/{mine['id']}")
    tagged = await api.patch(
        f"/api/v1/cases/{mine['id']}", json={"add_tags": ["difficult"]}, headers={"If-Match": current.headers["etag"]}
    )
    assert tagged.status_code == 200
    me = customer_headers(settings, mine)

    listed = (await api.get("/api/v1/cases", headers=me)).json()["items"]
    assert [case["id"] for case in listed] == [mine["id"]]
    own = await api.get(f"/api/v1/cases/{mine['id']}", headers=me)
    assert own.status_code == 200
    assert own.json()["tags"] == []
    assert listed[0]["tags"] == []
    assert (await api.get(f"/api/v1/cases/{theirs['id']}", headers=me)).status_code == 404
    assert (await api.get(f"/api/v1/cases/{theirs['id']}/messages", headers=me)).status_code == 404
    messages = (await api.get(f"/api/v1/cases/{mine['id']}/messages", headers=me)).json()["items"]
    assert [message["text"] for message in messages] == ["It is smoking."]
    secret = note.json()["attachments"][0]["url"]
    assert (await api.get(secret, headers=me)).status_code == 404
    assert (await api.get(secret)).status_code == 200

    # Agents' tools stay closed to customers.
    assert (await api.get(f"/api/v1/cases/{mine['id']}/history", headers=me)).status_code == 403
    change = await api.patch(
        f"/api/v1/cases/{mine['id']}", json={"priority": "urgent"}, headers={**me, "If-Match": '"1"'}
    )
    assert change.status_code == 403
    assert (await api.get("/api/v1/contacts", headers=me)).status_code == 403
    hidden = await api.post(f"/api/v1/cases/{mine['id']}/messages", json={"text": "x", "public": False}, headers=me)
    assert hidden.status_code == 403
    # created, the agent's note, the tag: nothing from the refused calls
    assert len(await published(mine["id"])) == 3


async def test_customers_open_cases_and_reply_as_the_requester(
    api: httpx.AsyncClient, settings: CaseCoreSettings, deliver: Deliver, email: Email, published: Published
) -> None:
    mine = await customer_case(api, deliver, email, f"me-{uuid.uuid4().hex[:6]}@portal.example")
    me = customer_headers(settings, mine)

    refused = await api.post(
        "/api/v1/cases", json={"subject": "VIP!", "priority": "urgent", "assignee_id": str(uuid.uuid4())}, headers=me
    )
    assert refused.status_code == 403
    assert [error["field"] for error in refused.json()["errors"]] == ["body.assignee_id", "body.priority"]
    opened = await api.post("/api/v1/cases", json={"subject": "New question", "description": "How do I…"}, headers=me)
    assert opened.status_code == 201, opened.text
    assert opened.json()["requester_id"] == mine["requester_id"]
    assert opened.json()["channel"] == "web"

    solved = await api.patch(f"/api/v1/cases/{mine['id']}", json={"status": "solved"}, headers={"If-Match": '"1"'})
    assert solved.status_code == 200
    reply = await api.post(
        f"/api/v1/cases/{mine['id']}/messages", json={"text": "Not fixed", "public": True}, headers=me
    )
    assert reply.status_code == 201
    assert reply.json()["direction"] == "inbound"
    assert reply.json()["author_role"] == "customer"
    assert (await api.get(f"/api/v1/cases/{mine['id']}")).json()["status"] == "open"
    assert "outbound.message_requested" not in [kind for kind, _ in await published(mine["id"])]


async def test_customers_with_organization_access_see_their_colleagues_cases(
    api: httpx.AsyncClient, settings: CaseCoreSettings, deliver: Deliver, email: Email
) -> None:
    domain = f"org-{uuid.uuid4().hex[:6]}.example"
    organization = (await api.post("/api/v1/organizations", json={"name": "Org", "domains": [domain]})).json()
    mine = await customer_case(api, deliver, email, f"me@{domain}")
    colleague = await customer_case(api, deliver, email, f"colleague@{domain}")
    narrow = customer_headers(settings, mine, organization_id=uuid.UUID(organization["id"]))
    wide = customer_headers(settings, mine, organization_id=uuid.UUID(organization["id"]), organization_cases=True)
    assert (await api.get(f"/api/v1/cases/{colleague['id']}", headers=narrow)).status_code == 404
    assert (await api.get(f"/api/v1/cases/{colleague['id']}", headers=wide)).status_code == 200
    listed = (await api.get("/api/v1/cases", params={"sort": "number"}, headers=wide)).json()["items"]
    assert [case["id"] for case in listed] == [mine["id"], colleague["id"]]


async def test_a_swarm_members_read_access_and_a_promoted_note_go_through_case_commands_into_history(
    api: httpx.AsyncClient, deliver: Deliver
) -> None:
    case = (
        await api.post("/api/v1/cases", json={"subject": "Swarmed", "requester": {"email": "w@swarm.example"}})
    ).json()
    case_id = uuid.UUID(case["id"])
    expert = f"user:{uuid.uuid4()}"
    await deliver(RecordCaseAccess(case_id=case_id, grantee=expert, granted=True, reason="swarm:1"))
    await deliver(
        ChangeCase(case_id=case_id, internal_note="Restart the sync worker.", note_author=expert, reason="swarm:1")
    )
    await deliver(RecordCaseAccess(case_id=case_id, grantee=expert, granted=False, reason="swarm:1"))

    history = (await api.get(f"/api/v1/cases/{case_id}/history")).json()["items"]
    access = [(entry["old"], entry["new"], entry["actor"]) for entry in history if entry["field"] == "access"]
    assert access == [(None, expert, "swarm:1"), (expert, None, "swarm:1")]
    messages = (await api.get(f"/api/v1/cases/{case_id}/messages")).json()["items"]
    [note] = [message for message in messages if message["text"] == "Restart the sync worker."]
    assert (note["public"], note["author"]) == (False, expert)
    # Recording access changes no field of the case.
    assert (await api.get(f"/api/v1/cases/{case_id}")).json()["version"] == case["version"] + 1
