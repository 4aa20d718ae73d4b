"""The admin API: skills, groups, agents and rules, their validation and ordering."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from omnicase.devtools.testing.apps import running
from omnicase.devtools.testing.plugin import SettingsFactory
from omnicase.kit.events import Priority
from omnicase.routing.app import create_app
from omnicase.routing.settings import RoutingSettings
from omnicase.routing.testing import Seeder, identity_headers, snapshot

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("clean_routing")]


def fields(response: httpx.Response) -> set[str]:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return {error["field"] for error in response.json().get("errors", [])}


async def created(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_agents_are_validated_and_bad_input_changes_nothing(service_settings: SettingsFactory) -> None:
    settings = service_settings(RoutingSettings)
    async with running(create_app(settings)) as client:
        client.headers.update(identity_headers(settings))
        skill = await created(client, "/api/v1/skills", {"name": "billing"})
        group = await created(client, "/api/v1/groups", {"name": "Billing"})
        user_id = str(uuid.uuid4())
        good = {
            "user_id": user_id,
            "name": "Ada",
            "languages": ["en", "DE"],
            "capacity": 6,
            "skills": [{"skill_id": skill["id"], "level": 7}],
            "group_ids": [group["id"]],
        }

        bad = await client.post(
            "/api/v1/agents",
            json={
                **good,
                "skills": [{"skill_id": str(uuid.uuid4()), "level": 5}],
                "group_ids": [str(uuid.uuid4())],
            },
        )
        # Names of nothing are a 404 naming each field (the kit's unknown-reference problem).
        assert bad.status_code == 404
        assert bad.json()["type"].endswith("/unknown-reference")
        assert fields(bad) == {"body.skills.0.skill_id", "body.group_ids.0"}
        assert (await client.get(f"/api/v1/agents/{user_id}")).status_code == 404

        out_of_range = await client.post(
            "/api/v1/agents", json={**good, "capacity": -1, "skills": [{"skill_id": skill["id"], "level": 11}]}
        )
        assert out_of_range.status_code == 422
        assert fields(out_of_range) == {"body.capacity", "body.skills.0.level"}
        assert (await client.post("/api/v1/agents", json={**good, "languages": ["not a language"]})).status_code == 422

        agent = await created(client, "/api/v1/agents", good)
        assert agent["presence"]["status"] == "offline"
        assert agent["languages"] == ["en", "de"]
        assert agent["skills"] == [{"skill_id": skill["id"], "name": "billing", "level": 7}]
        assert (await client.post("/api/v1/agents", json=good)).status_code == 409

        updated = await client.patch(f"/api/v1/agents/{user_id}", json={"capacity": 9, "skills": []})
        assert updated.status_code == 200, updated.text
        assert (updated.json()["capacity"], updated.json()["skills"]) == (9, [])
        assert (await client.patch(f"/api/v1/agents/{user_id}", json={"capacity": None})).status_code == 422
        assert (await client.patch(f"/api/v1/agents/{user_id}", json={"colour": "red"})).status_code == 422

        away = await client.put(f"/api/v1/agents/{user_id}/presence", json={"status": "away", "reason": "lunch"})
        assert away.json()["presence"]["status"] == "away"
        assert away.json()["presence"]["reason"] == "lunch"
        assert (await client.put(f"/api/v1/agents/{user_id}/presence", json={"status": "asleep"})).status_code == 422

        listed = (await client.get("/api/v1/agents", params={"group_id": group["id"], "presence": "away"})).json()
        assert [item["user_id"] for item in listed["items"]] == [user_id]
        none = (await client.get("/api/v1/agents", params={"presence": "online", "group_id": group["id"]})).json()
        assert none["items"] == []
        assert (await client.get("/api/v1/agents", params={"cursor": "not-a-cursor"})).status_code == 422

        load = (await client.get(f"/api/v1/agents/{user_id}/load")).json()
        assert (load["capacity"], load["used_capacity"], load["work"]) == (9, 0, [])

        assert (await client.delete(f"/api/v1/agents/{user_id}")).status_code == 204
        assert (await client.get(f"/api/v1/agents/{user_id}")).status_code == 404


async def test_groups_and_skills_refuse_what_would_break_routing(service_settings: SettingsFactory) -> None:
    settings = service_settings(RoutingSettings)
    async with running(create_app(settings)) as client:
        client.headers.update(identity_headers(settings))
        fallback = await created(client, "/api/v1/groups", {"name": "Tier 2"})
        half = await client.post("/api/v1/groups", json={"name": "Tier 1", "overflow_after_seconds": 60})
        assert half.status_code == 422
        assert fields(half) == {"body.overflow_group_id"}
        missing = await client.post(
            "/api/v1/groups",
            json={"name": "Tier 1", "overflow_after_seconds": 60, "overflow_group_id": str(uuid.uuid4())},
        )
        assert missing.status_code == 404
        assert fields(missing) == {"body.overflow_group_id"}
        assert (await client.post("/api/v1/groups", json={"name": "X", "routing_model": "random"})).status_code == 422
        assert (await client.post("/api/v1/groups", json={"name": "X", "offer_timeout_seconds": 0})).status_code == 422

        tier1 = await created(
            client,
            "/api/v1/groups",
            {
                "name": "Tier 1",
                "routing_model": "round_robin",
                "offer_timeout_seconds": 30,
                "overflow_after_seconds": 600,
                "overflow_group_id": fallback["id"],
            },
        )
        # What conflicts with how the queues are set now (itself, a loop, half an overflow whose
        # other half is stored as none) is a 409 naming the field; nothing changes.
        itself = await client.patch(f"/api/v1/groups/{tier1['id']}", json={"overflow_group_id": tier1["id"]})
        assert itself.status_code == 409
        assert fields(itself) == {"body.overflow_group_id"}
        loop = await client.patch(
            f"/api/v1/groups/{fallback['id']}", json={"overflow_after_seconds": 60, "overflow_group_id": tier1["id"]}
        )
        assert loop.status_code == 409
        assert loop.json()["type"].endswith("/overflow-conflict")
        assert [e["code"] for e in loop.json()["errors"]] == ["cycle"]
        half_of_none = await client.patch(f"/api/v1/groups/{fallback['id']}", json={"overflow_after_seconds": 60})
        assert half_of_none.status_code == 409
        assert fields(half_of_none) == {"body.overflow_group_id"}
        # A body that gives both halves, one of them null, breaks its own schema: a 422.
        half_in_body = await client.patch(
            f"/api/v1/groups/{fallback['id']}", json={"overflow_after_seconds": 60, "overflow_group_id": None}
        )
        assert half_in_body.status_code == 422
        assert fields(half_in_body) == {"body.overflow_group_id"}
        assert (await client.get(f"/api/v1/groups/{fallback['id']}")).json()["overflow_group_id"] is None
        assert (await client.post("/api/v1/groups", json={"name": "Tier 1"})).status_code == 409
        in_use = await client.delete(f"/api/v1/groups/{fallback['id']}")
        assert in_use.status_code == 409
        assert "overflows into it" in in_use.json()["detail"]

        auto = await client.patch(f"/api/v1/groups/{tier1['id']}", json={"offer_timeout_seconds": None})
        assert auto.json()["offer_timeout_seconds"] is None

        skill = await created(client, "/api/v1/skills", {"name": "spanish"})
        assert (await client.post("/api/v1/skills", json={"name": "spanish"})).status_code == 409
        await created(
            client,
            "/api/v1/routing/rules",
            {
                "name": "Spanish",
                "target_group_id": tier1["id"],
                "required_skills": [{"skill_id": skill["id"], "min_level": 3}],
            },
        )
        assert (await client.delete(f"/api/v1/skills/{skill['id']}")).status_code == 409
        assert (await client.delete(f"/api/v1/groups/{tier1['id']}")).status_code == 409


async def test_rules_are_validated_and_kept_in_order(service_settings: SettingsFactory) -> None:
    settings = service_settings(RoutingSettings)
    async with running(create_app(settings)) as client:
        client.headers.update(identity_headers(settings))
        group = await created(client, "/api/v1/groups", {"name": "Billing"})
        skill = await created(client, "/api/v1/skills", {"name": "billing"})

        bad = await client.post(
            "/api/v1/routing/rules",
            json={
                "name": "Broken",
                "target_group_id": str(uuid.uuid4()),
                "required_skills": [
                    {"skill_id": skill["id"], "min_level": 3},
                    {"skill_id": skill["id"], "min_level": 4},
                    {"skill_id": str(uuid.uuid4()), "min_level": 4},
                ],
            },
        )
        # What names nothing is the answer (a 404 naming those fields); a skill listed twice is a
        # 422 once every name is known.
        assert bad.status_code == 404
        assert fields(bad) == {"body.target_group_id", "body.required_skills.2.skill_id"}
        twice = await client.post(
            "/api/v1/routing/rules",
            json={
                "name": "Twice",
                "target_group_id": group["id"],
                "required_skills": [
                    {"skill_id": skill["id"], "min_level": 3},
                    {"skill_id": skill["id"], "min_level": 4},
                ],
            },
        )
        assert twice.status_code == 422
        assert fields(twice) == {"body.required_skills.1.skill_id"}
        shapes = await client.post(
            "/api/v1/routing/rules",
            json={
                "name": "Shapes",
                "target_group_id": group["id"],
                "conditions": {"channels": ["pigeon"], "keywords": [" "], "colour": ["red"]},
                "required_skills": [{"skill_id": skill["id"], "min_level": 0}],
            },
        )
        assert shapes.status_code == 422
        assert fields(shapes) == {
            "body.conditions.channels.0",
            "body.conditions.keywords.0",
            "body.conditions.colour",
            "body.required_skills.0.min_level",
        }
        assert (await client.get("/api/v1/routing/rules")).json()["items"] == []

        async def rule(name: str, **extra: Any) -> str:
            body = {"name": name, "target_group_id": group["id"], "conditions": {"brands": [name]}, **extra}
            return str((await created(client, "/api/v1/routing/rules", body))["id"])

        a = await rule("a")
        b = await rule("b")
        c = await rule("c", position=1)
        d = await rule("d", position=99)

        async def order() -> list[tuple[str, int]]:
            items = (await client.get("/api/v1/routing/rules")).json()["items"]
            return [(item["id"], item["position"]) for item in items]

        assert await order() == [(c, 1), (a, 2), (b, 3), (d, 4)]
        moved = await client.patch(f"/api/v1/routing/rules/{d}", json={"position": 2, "enabled": False})
        assert moved.status_code == 200, moved.text
        assert await order() == [(c, 1), (d, 2), (a, 3), (b, 4)]
        assert (await client.delete(f"/api/v1/routing/rules/{a}")).status_code == 204
        assert await order() == [(c, 1), (d, 2), (b, 3)]

        first_page = (await client.get("/api/v1/routing/rules", params={"limit": 2})).json()
        second_page = (
            await client.get("/api/v1/routing/rules", params={"limit": 2, "cursor": first_page["next_cursor"]})
        ).json()
        assert [item["id"] for item in first_page["items"] + second_page["items"]] == [c, d, b]
        assert second_page["next_cursor"] is None
        exact = (await client.get("/api/v1/routing/rules", params={"limit": 3})).json()
        assert (len(exact["items"]), exact["next_cursor"]) == (3, None), "a full last page says it is the last"
        enabled = (await client.get("/api/v1/routing/rules", params={"enabled": "false"})).json()["items"]
        assert [item["id"] for item in enabled] == [d]

        assert (await client.patch(f"/api/v1/routing/rules/{b}", json={"name": None})).status_code == 422
        assert (await client.get(f"/api/v1/routing/rules/{uuid.uuid4()}")).status_code == 404
        assert (await client.get("/api/v1/routing/rules", params={"cursor": "bm9wZQ"})).status_code == 422


async def test_only_admins_configure_and_agents_answer_only_for_themselves(service_settings: SettingsFactory) -> None:
    settings = service_settings(RoutingSettings)
    async with running(create_app(settings)) as client:
        admin = identity_headers(settings)
        group = await client.post(
            "/api/v1/groups", json={"name": "Support", "offer_timeout_seconds": 60}, headers=admin
        )
        me, colleague = uuid.uuid4(), uuid.uuid4()
        for user_id in (me, colleague):
            body = {"user_id": str(user_id), "name": "Agent", "group_ids": [group.json()["id"]]}
            assert (await client.post("/api/v1/agents", json=body, headers=admin)).status_code == 201
        as_me = identity_headers(settings, role="agent", subject=me)

        anonymous = await client.get("/api/v1/agents")
        assert anonymous.status_code == 401
        assert anonymous.headers["content-type"].startswith("application/problem+json")
        forged = await client.get("/api/v1/agents", headers={"X-Omnicase-Identity": "a.b.c"})
        assert forged.status_code == 401

        assert (await client.get("/api/v1/agents", headers=as_me)).status_code == 200
        assert (await client.post("/api/v1/skills", json={"name": "x"}, headers=as_me)).status_code == 403
        assert (await client.patch(f"/api/v1/agents/{me}", json={"capacity": 99}, headers=as_me)).status_code == 403
        other = await client.put(f"/api/v1/agents/{colleague}/presence", json={"status": "online"}, headers=as_me)
        assert other.status_code == 403
        customer = identity_headers(settings, role="end_user", scopes=frozenset({"routing:read"}))
        assert (await client.get("/api/v1/agents", headers=customer)).status_code == 403

        online = await client.put(f"/api/v1/agents/{me}/presence", json={"status": "online"}, headers=as_me)
        assert online.status_code == 200
        assert online.json()["presence"]["status"] == "online"
        assert (await client.get(f"/api/v1/agents/{colleague}", headers=admin)).json()["presence"]["status"] == (
            "offline"
        )
        not_mine = await client.post(f"/api/v1/agents/{colleague}/offers/{uuid.uuid4()}/accept", headers=as_me)
        assert not_mine.status_code == 403
        unknown = await client.post(f"/api/v1/agents/{me}/offers/{uuid.uuid4()}/decline", headers=as_me)
        assert unknown.status_code == 404


async def test_queue_views_show_waiting_work_in_hand_out_order_with_wait_times(
    service_settings: SettingsFactory,
) -> None:
    settings = service_settings(RoutingSettings)
    app = create_app(settings)
    async with running(app) as client:
        client.headers.update(identity_headers(settings))
        group = await created(client, "/api/v1/groups", {"name": "Support"})
        queue = uuid.UUID(group["id"])
        low, urgent, normal = (
            snapshot(group_id=queue, priority=Priority.LOW),
            snapshot(group_id=queue, priority=Priority.URGENT),
            snapshot(group_id=queue, priority=Priority.NORMAL),
        )
        # Cases arrive as case-core's events would deliver them (no agent online: they wait).
        for case in (low, urgent, normal):
            async with app.state.runtime.database.unit_of_work() as session:
                await Seeder(session, settings).routing.apply_snapshot(case, actor="system", created=True)

        work = (await client.get(f"/api/v1/queues/{queue}/work")).json()
        assert [item["case_id"] for item in work["items"]] == [str(c.case_id) for c in (urgent, normal, low)]
        assert all(item["state"] == "waiting" and item["wait_seconds"] >= 0 for item in work["items"])
        first = (await client.get(f"/api/v1/queues/{queue}/work", params={"limit": 2})).json()
        rest = await client.get(f"/api/v1/queues/{queue}/work", params={"limit": 2, "cursor": first["next_cursor"]})
        assert [item["case_id"] for item in rest.json()["items"]] == [str(low.case_id)]
        assert rest.json()["next_cursor"] is None
        assert (await client.get(f"/api/v1/queues/{queue}/work", params={"limit": 3})).json()["next_cursor"] is None
        assert (await client.get(f"/api/v1/queues/{uuid.uuid4()}/work")).status_code == 404

        summary = {item["group_id"]: item for item in (await client.get("/api/v1/queues")).json()["items"]}
        assert (summary[str(queue)]["waiting"], summary[str(queue)]["offered"]) == (3, 0)
        assert summary[str(queue)]["longest_wait_seconds"] >= work["items"][-1]["wait_seconds"] >= 0

        routed = (await client.get(f"/api/v1/routing/cases/{urgent.case_id}")).json()
        assert (routed["state"], routed["group_id"], routed["holder_id"]) == ("waiting", str(queue), None)
        decisions = (await client.get(f"/api/v1/routing/cases/{urgent.case_id}/decisions")).json()["items"]
        assert [d["kind"] for d in decisions] == ["queued", "waiting"]
        assert "no agent" in decisions[-1]["summary"]


async def test_a_skill_waiting_work_needs_cannot_be_deleted(service_settings: SettingsFactory) -> None:
    settings = service_settings(RoutingSettings)
    app = create_app(settings)
    async with running(app) as client:
        client.headers.update(identity_headers(settings))
        group = await created(client, "/api/v1/groups", {"name": "Legal"})
        skill = await created(client, "/api/v1/skills", {"name": "contracts"})
        rule = await created(
            client,
            "/api/v1/routing/rules",
            {
                "name": "Contracts",
                "conditions": {"brands": ["legal-co"]},
                "target_group_id": group["id"],
                "required_skills": [{"skill_id": skill["id"], "min_level": 6}],
            },
        )
        async with app.state.runtime.database.unit_of_work() as session:
            await Seeder(session, settings).routing.apply_snapshot(
                snapshot(brand="legal-co"), actor="system", created=True
            )
        work = (await client.get(f"/api/v1/queues/{group['id']}/work")).json()["items"]
        assert [item["required_skills"] for item in work] == [{skill["id"]: 6}]

        assert (await client.delete(f"/api/v1/routing/rules/{rule['id']}")).status_code == 204
        refused = await client.delete(f"/api/v1/skills/{skill['id']}")
        assert refused.status_code == 409
        assert "waiting" in refused.json()["detail"]
        assert (await client.get(f"/api/v1/skills/{skill['id']}")).status_code == 200
