"""Macros through the API: apply, preview (nothing kept), templated replies, availability, bad input."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from omnicase.case_core.settings import CaseCoreSettings
from omnicase.case_core.testing import Published, identity_headers

pytestmark = pytest.mark.asyncio

REPLY = {
    "type": "add_reply",
    "text": "Hi {{requester.first_name}},\n\ncould you send the logs for #{{case.number}}?",
    "variants": [{"locale": "de", "text": "Hallo {{requester.first_name}},\n\nbitte senden Sie uns die Logs."}],
}
ACTIONS = [
    {"type": "set", "field": "status", "value": "pending"},
    {"type": "add_tags", "tags": ["waiting-logs"]},
    REPLY,
    {"type": "add_note", "text": "Asked {{requester.email}} for logs."},
]


async def _macro(api: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await api.post("/api/v1/macros", json={"name": "Ask for logs", "actions": ACTIONS, **body})
    assert response.status_code == 201, response.text
    macro: dict[str, Any] = response.json()
    return macro


async def _case(api: httpx.AsyncClient, name: str = "Ada Lovelace") -> dict[str, Any]:
    email = f"{uuid.uuid4().hex[:8]}@customer.example"
    response = await api.post("/api/v1/cases", json={"subject": "Crash", "requester": {"email": email, "name": name}})
    assert response.status_code == 201, response.text
    case: dict[str, Any] = response.json()
    return case


async def test_applying_a_macro_sets_fields_tags_and_sends_a_personal_reply(
    api: httpx.AsyncClient, agent: dict[str, str], agent_id: str, published: Published
) -> None:
    macro = await _macro(api)
    case = await _case(api)
    response = await api.post(
        f"/api/v1/macros/{macro['id']}/apply", json={"case_id": case["id"]}, headers={**agent, "If-Match": '"1"'}
    )
    assert response.status_code == 200, response.text
    applied = response.json()
    assert applied["case"]["status"] == "pending"
    assert applied["case"]["tags"] == ["waiting-logs"]
    assert response.headers["ETag"] == f'"{applied["case"]["version"]}"'
    messages = (await api.get(f"/api/v1/cases/{case['id']}/messages")).json()["items"]
    email = (await api.get(f"/api/v1/contacts/{case['requester_id']}")).json()["emails"][0]
    reply = f"Hi Ada,\n\ncould you send the logs for #{case['number']}?"
    assert [(m["public"], m["text"]) for m in messages] == [(True, reply), (False, f"Asked {email} for logs.")]
    assert messages[0]["author"] == messages[1]["author"] == f"user:{agent_id}"
    outbound = [data for kind, data in await published(case["id"]) if kind == "outbound.message_requested"]
    assert len(outbound) == 1, "the reply goes out to the requester"


async def test_a_stale_etag_applies_nothing(api: httpx.AsyncClient) -> None:
    macro = await _macro(api)
    case = await _case(api)
    response = await api.post(
        f"/api/v1/macros/{macro['id']}/apply", json={"case_id": case["id"]}, headers={"If-Match": '"7"'}
    )
    assert response.status_code == 412
    after = (await api.get(f"/api/v1/cases/{case['id']}")).json()
    assert (after["status"], after["tags"], after["version"]) == (case["status"], [], case["version"])
    assert (await api.get(f"/api/v1/cases/{case['id']}/messages")).json()["items"] == []


async def test_preview_shows_changes_and_escaped_texts_and_keeps_nothing(api: httpx.AsyncClient) -> None:
    macro = await _macro(api)
    case = await _case(api, name="<b>Eve</b> Hacker")
    await api.patch(f"/api/v1/cases/{case['id']}", json={"language": "de-AT"}, headers={"If-Match": '"1"'})
    before = await api.get(f"/api/v1/cases/{case['id']}")
    response = await api.post(f"/api/v1/macros/{macro['id']}/preview", json={"case_id": case["id"]})
    assert response.status_code == 200, response.text
    preview = response.json()
    assert preview["changes"]["status"] == {"old": "new", "new": "pending"}
    assert preview["changes"]["tags"] == {"old": [], "new": ["waiting-logs"]}
    reply, note = preview["messages"]
    assert reply["public"] is True
    assert reply["text"] == "Hallo <b>Eve</b>,\n\nbitte senden Sie uns die Logs.", "the German variant"
    assert reply["html"] == "<p>Hallo &lt;b&gt;Eve&lt;/b&gt;,</p><p>bitte senden Sie uns die Logs.</p>"
    assert note["public"] is False
    after = await api.get(f"/api/v1/cases/{case['id']}")
    assert after.json() == before.json()
    assert (await api.get(f"/api/v1/cases/{case['id']}/messages")).json()["items"] == []


async def test_macros_are_listed_per_group_and_inactive_ones_cannot_be_applied(
    api: httpx.AsyncClient,
    agent: dict[str, str],
    agent_id: str,
    settings: CaseCoreSettings,
    routing: httpx.AsyncClient,
    membership: None,
) -> None:
    created = await routing.post("/api/v1/groups", json={"name": f"Team {uuid.uuid4().hex[:8]}"})
    group = str(created.json()["id"])
    joined = await routing.post("/api/v1/agents", json={"user_id": agent_id, "name": "Ada", "group_ids": [group]})
    assert joined.status_code == 201, joined.text
    outsider = identity_headers(settings.internal_secret, role="agent", subject=str(uuid.uuid4()))
    everyone = await _macro(api, name="For all")
    team = await _macro(api, name="For the team", group_ids=[group])
    off = await _macro(api, name="Retired", active=False)
    mine = {everyone["id"], team["id"], off["id"]}

    async def names(headers: dict[str, str], **params: Any) -> list[str]:
        items = (await api.get("/api/v1/macros", headers=headers, params=params)).json()["items"]
        return [m["name"] for m in items if m["id"] in mine]

    # Membership is routing's word, not the request's.
    assert await names(agent) == ["For all", "For the team"]
    assert await names(outsider) == ["For all"]
    assert await names(outsider, group_id=group) == ["For all"]
    case = await _case(api)
    for action in ("preview", "apply"):
        taken = await api.post(f"/api/v1/macros/{team['id']}/{action}", json={"case_id": case["id"]}, headers=outsider)
        assert taken.status_code == 404, "another group's macro is not the outsider's to use"
    previewed = await api.post(f"/api/v1/macros/{team['id']}/preview", json={"case_id": case["id"]}, headers=agent)
    assert previewed.status_code == 200, previewed.text
    admin_view = [m["name"] for m in (await api.get("/api/v1/macros")).json()["items"] if m["id"] in mine]
    assert sorted(admin_view) == ["For all", "For the team", "Retired"]
    refused = await api.post(f"/api/v1/macros/{off['id']}/apply", json={"case_id": case["id"]})
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("macro-inactive")


async def test_bad_macros_get_per_field_problems_and_create_nothing(
    api: httpx.AsyncClient, agent: dict[str, str]
) -> None:
    cases = [
        ([{"type": "add_reply", "text": "Hi {{requester.shoe_size}}"}], "body.actions.0"),
        ([{"type": "add_reply", "text": "ok", "variants": [{"locale": "de", "text": "{{nope}}"}]}], "body.actions.0"),
        ([{"type": "set", "field": "priority", "value": "whenever"}], "body.actions.0.value"),
        ([{"type": "launch"}], "body.actions.0"),
        # A tag a case would refuse is refused with the macro, not when it is previewed or applied.
        ([{"type": "add_tags", "tags": [""]}], "body.actions.0"),
        ([{"type": "remove_tags", "tags": ["no spaces"]}], "body.actions.0"),
        ([], "body.actions"),
    ]
    for actions, field in cases:
        response = await api.post("/api/v1/macros", json={"name": "x", "actions": actions})
        assert response.status_code == 422, actions
        fields = [error["field"] for error in response.json()["errors"]]
        assert any(f.startswith(field) for f in fields), (field, fields)
    # A JSON boolean is not a number, nor a string a boolean: what the schema says, exactly.
    wrong = (({"position": False}, "body.position"), ({"active": "yes"}, "body.active"))
    # A position beyond what the column holds is refused, not a 500 at the insert.
    for body, field in (*wrong, ({"position": 5802145883653869568}, "body.position")):
        wrong_type = await api.post("/api/v1/macros", json={"name": "x", "actions": ACTIONS, **body})
        assert wrong_type.status_code == 422, body
        assert [error["field"] for error in wrong_type.json()["errors"]] == [field]
    forbidden = await api.post("/api/v1/macros", headers=agent, json={"name": "x", "actions": ACTIONS})
    assert forbidden.status_code == 403
    assert (await api.get("/api/v1/macros")).json()["items"] == []
    missing = await api.post(f"/api/v1/macros/{uuid.uuid4()}/apply", json={"case_id": str(uuid.uuid4())})
    assert missing.status_code == 404


async def test_a_change_with_nulls_names_each_null_field_and_changes_nothing(api: httpx.AsyncClient) -> None:
    macro = await _macro(api)
    refused = await api.patch(f"/api/v1/macros/{macro['id']}", json={"name": None, "actions": None, "active": False})
    assert refused.status_code == 422
    errors = refused.json()["errors"]
    assert [(error["field"], error["code"]) for error in errors] == [("body.actions", "null"), ("body.name", "null")]
    assert (await api.get(f"/api/v1/macros/{macro['id']}")).json() == macro
