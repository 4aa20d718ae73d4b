"""Views: personal and shared visibility, the view's cases in its order, the sidebar's counts, bad input."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from omnicase.case_core.directory import StaffDirectory
from omnicase.case_core.settings import CaseCoreSettings
from omnicase.case_core.testing import WebhookReceiver, identity_headers
from omnicase.devtools.testing.servers import serve_http

pytestmark = pytest.mark.asyncio


@pytest.fixture
def tag() -> str:
    """A tag of this test alone (app tests elsewhere commit cases for real)."""
    return f"t{uuid.uuid4().hex[:10]}"


async def _view(api: httpx.AsyncClient, headers: dict[str, str] | None = None, **body: Any) -> dict[str, Any]:
    response = await api.post("/api/v1/views", json=body, headers=headers or {})
    assert response.status_code == 201, response.text
    view: dict[str, Any] = response.json()
    return view


async def _routing_group(routing: httpx.AsyncClient) -> str:
    response = await routing.post("/api/v1/groups", json={"name": f"Team {uuid.uuid4().hex[:8]}"})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _routing_agent(routing: httpx.AsyncClient, user_id: str, groups: list[str]) -> None:
    body = {"user_id": user_id, "name": f"Agent {user_id[:6]}", "group_ids": groups}
    response = await routing.post("/api/v1/agents", json=body)
    assert response.status_code == 201, response.text


async def _case(api: httpx.AsyncClient, subject: str, **extra: Any) -> dict[str, Any]:
    body = {"subject": subject, "requester": {"email": f"{uuid.uuid4().hex[:8]}@customer.example"}, **extra}
    response = await api.post("/api/v1/cases", json=body)
    assert response.status_code == 201, response.text
    case: dict[str, Any] = response.json()
    return case


async def test_personal_views_are_their_owners_and_shared_ones_follow_group_and_role(
    api: httpx.AsyncClient,
    agent: dict[str, str],
    agent_id: str,
    settings: CaseCoreSettings,
    routing: httpx.AsyncClient,
    membership: None,
) -> None:
    group = await _routing_group(routing)
    await _routing_agent(routing, agent_id, [group])
    other_id = str(uuid.uuid4())
    await _routing_agent(routing, other_id, [])
    other = identity_headers(settings.internal_secret, role="agent", subject=other_id)
    mine = await _view(api, agent, name="My open", filters={"status": ["open"], "assignee": "me"})
    assert mine["visibility"] == "personal"
    assert mine["owner"].startswith("user:")
    team = await _view(api, name="Team queue", visibility="group", group_id=group, filters={"group_id": group})
    everyone = await _view(api, name="All urgent", visibility="everyone", filters={"priority": ["urgent"]}, position=1)

    def names(response: httpx.Response) -> list[str]:
        return [v["name"] for v in response.json()["items"] if v["id"] in {mine["id"], team["id"], everyone["id"]}]

    # The agent's groups come from routing, not from the request.
    assert names(await api.get("/api/v1/views", headers=agent)) == ["My open", "Team queue", "All urgent"]
    assert names(await api.get("/api/v1/views", headers=other)) == ["All urgent"]
    # Claiming a group one is not a member of shows nothing more.
    claimed = await api.get("/api/v1/views", headers=other, params={"group_id": group})
    assert names(claimed) == ["All urgent"]
    for path in (f"/api/v1/views/{team['id']}", f"/api/v1/views/{team['id']}/cases"):
        assert (await api.get(path, headers=other, params={"group_id": group})).status_code == 404
        assert (await api.get(path, headers=agent)).status_code == 200
    counted = await api.get("/api/v1/views/counts", headers=other, params={"view_id": team["id"], "group_id": group})
    assert counted.status_code == 404
    every = (await api.get("/api/v1/views/counts", headers=other, params={"group_id": group})).json()["items"]
    assert team["id"] not in {item["view_id"] for item in every}
    # Admins see every group's views (they manage them).
    assert names(await api.get("/api/v1/views")) == ["Team queue", "All urgent"]
    assert (await api.get(f"/api/v1/views/{mine['id']}", headers=other)).status_code == 404
    assert (await api.patch(f"/api/v1/views/{mine['id']}", headers=other, json={"name": "x"})).status_code == 404

    shared = await api.post("/api/v1/views", headers=agent, json={"name": "x", "visibility": "everyone"})
    assert shared.status_code == 403
    assert (await api.patch(f"/api/v1/views/{everyone['id']}", headers=agent, json={"name": "x"})).status_code == 403
    assert (await api.delete(f"/api/v1/views/{everyone['id']}", headers=agent)).status_code == 403

    renamed = await api.patch(f"/api/v1/views/{mine['id']}", headers=agent, json={"name": "Mine", "sort": "number"})
    assert renamed.status_code == 200
    assert (renamed.json()["name"], renamed.json()["sort"]) == ("Mine", "number")
    assert (await api.delete(f"/api/v1/views/{mine['id']}", headers=agent)).status_code == 204
    assert (await api.get(f"/api/v1/views/{mine['id']}", headers=agent)).status_code == 404


async def test_counts_of_a_sidebar_come_in_one_request(
    api: httpx.AsyncClient, agent: dict[str, str], agent_id: str, tag: str, membership: None
) -> None:
    await _case(api, "a", priority="urgent", tags=[tag])
    await _case(api, "b", priority="urgent", tags=[tag, "vip"])
    await _case(api, "c", priority="low", tags=[tag], assignee_id=agent_id)
    await _case(api, "d", priority="low", tags=["elsewhere"], assignee_id=agent_id)
    urgent = await _view(api, agent, name="Urgent", filters={"priority": ["urgent"], "tags": [tag]})
    vip = await _view(api, agent, name="VIP", filters={"tags": [tag, "VIP"]})
    me = await _view(api, agent, name="Mine", filters={"assignee": "me"})
    unassigned = await _view(api, agent, name="Unassigned", filters={"unassigned": True, "tags": [tag]})
    solved = await _view(api, agent, name="Solved", filters={"status": ["solved"], "tags": [tag]})
    response = await api.get(
        "/api/v1/views/counts",
        headers=agent,
        params={"view_id": [urgent["id"], vip["id"], me["id"], unassigned["id"], solved["id"]]},
    )
    assert response.status_code == 200, response.text
    counts = {item["view_id"]: item["count"] for item in response.json()["items"]}
    assert counts == {urgent["id"]: 2, vip["id"]: 1, me["id"]: 2, unassigned["id"]: 2, solved["id"]: 0}
    # Without ids: every view the caller sees.
    every = (await api.get("/api/v1/views/counts", headers=agent)).json()["items"]
    assert {item["view_id"] for item in every} >= set(counts)
    missing = await api.get("/api/v1/views/counts", headers=agent, params={"view_id": str(uuid.uuid4())})
    assert missing.status_code == 404


async def test_a_views_cases_come_in_its_sort_order_page_by_page(api: httpx.AsyncClient, tag: str) -> None:
    first = await _case(api, "first", tags=[tag])
    second = await _case(api, "second", tags=[tag])
    await _case(api, "closed one", tags=[tag], status="solved")
    view = await _view(api, name="Oldest first", filters={"tags": [tag], "status": ["new"]}, sort="number")
    page = (await api.get(f"/api/v1/views/{view['id']}/cases", params={"limit": 1})).json()
    assert [c["id"] for c in page["items"]] == [first["id"]]
    rest = (await api.get(f"/api/v1/views/{view['id']}/cases", params={"cursor": page["next_cursor"]})).json()
    assert [c["id"] for c in rest["items"]] == [second["id"]]
    assert rest["next_cursor"] is None


async def test_bad_views_get_per_field_problems_and_create_nothing(
    api: httpx.AsyncClient, agent: dict[str, str], membership: None
) -> None:
    cases = [
        ({"name": "x", "visibility": "group"}, "body"),
        ({"name": "x", "columns": ["number", "mood"]}, "body.columns.1"),
        ({"name": "x", "columns": []}, "body.columns"),
        ({"name": "x", "filters": {"unassigned": True, "assignee": "me"}}, "body.filters"),
        ({"name": "x", "filters": {"status": ["exploded"]}}, "body.filters.status.0"),
        ({"name": "x", "sort": "mood"}, "body.sort"),
        ({"name": ""}, "body.name"),
    ]
    for body, field in cases:
        response = await api.post("/api/v1/views", json=body, headers=agent)
        assert response.status_code == 422, body
        fields = [error["field"] for error in response.json()["errors"]]
        assert any(f.startswith(field) for f in fields), (field, fields)
    assert [v for v in (await api.get("/api/v1/views", headers=agent)).json()["items"] if v["owner"]] == []
    view = await _view(api, agent, name="ok")
    nulled = await api.patch(f"/api/v1/views/{view['id']}", headers=agent, json={"name": None})
    assert nulled.status_code == 422
    assert nulled.json()["errors"][0]["field"] == "body.name"


async def test_while_routing_is_away_the_last_known_groups_stand_and_without_any_it_is_a_503(
    api: httpx.AsyncClient, app: Any, settings: CaseCoreSettings
) -> None:
    group = str(uuid.uuid4())
    team = await _view(api, name="Team", visibility="group", group_id=group)
    member = str(uuid.uuid4())
    # A routing that answers once (the member's groups), then is down.
    receiver = WebhookReceiver(
        (200, {"content-type": "application/json"}),
        (503, {}),
        (503, {}),
        bodies=[json.dumps({"group_ids": [group]}).encode()],
    )
    async with serve_http(receiver, lifespan="off") as url:
        directory = StaffDirectory(url, settings.internal_secret, ttl_seconds=0)
        app.state.services.directory = directory
        headers = identity_headers(settings.internal_secret, role="agent", subject=member)
        first = await api.get("/api/v1/views", headers=headers)
        assert team["id"] in {view["id"] for view in first.json()["items"]}
        stale = await api.get("/api/v1/views", headers=headers)
        assert team["id"] in {view["id"] for view in stale.json()["items"]}, "routing down: the last answer"
        stranger = identity_headers(settings.internal_secret, role="agent", subject=str(uuid.uuid4()))
        unknown = await api.get("/api/v1/views", headers=stranger)
        assert unknown.status_code == 503
        assert unknown.json()["type"].endswith("membership-unavailable")
        await directory.aclose()
