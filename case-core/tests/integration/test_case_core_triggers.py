"""Triggers through the API: conditions, actions, order, once per update, loop stop, refused actions, dry run."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from omnicase.case_core.settings import CaseCoreSettings
from omnicase.case_core.testing import STAFF_SCOPES, Deliver, Email, Published
from omnicase.devtools.testing.apps import GatewayIdentity
from omnicase.devtools.testing.clock import ManualClock
from omnicase.kit.clock import set_clock

pytestmark = pytest.mark.asyncio

GROUP = "0192f0c4-3c1e-7d1a-9a51-5a4b7c3d2e10"
AGENT = "0192f0c4-3c1e-7d1a-9a51-5a4b7c3d2e11"


async def _trigger(
    api: httpx.AsyncClient, name: str, conditions: dict[str, Any], actions: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    response = await api.post(
        "/api/v1/triggers", json={"name": name, "conditions": conditions, "actions": actions, **extra}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _case(api: httpx.AsyncClient, subject: str = "Printer on fire", **extra: Any) -> dict[str, Any]:
    body = {
        "subject": subject,
        "description": "It smokes.",
        "requester": {"email": f"{uuid.uuid4().hex[:8]}@customer.example"},
        **extra,
    }
    response = await api.post("/api/v1/cases", json=body)
    assert response.status_code == 201, response.text
    case: dict[str, Any] = response.json()
    return case


async def _patch(api: httpx.AsyncClient, case: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    current = await api.get(f"/api/v1/cases/{case['id']}")
    response = await api.patch(
        f"/api/v1/cases/{case['id']}", json=changes, headers={"If-Match": current.headers["ETag"]}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _runs(api: httpx.AsyncClient, case_id: str) -> list[dict[str, Any]]:
    response = await api.get("/api/v1/triggers/runs", params={"case_id": case_id})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_priority_changed_to_urgent_escalates_with_group_tag_and_note(api: httpx.AsyncClient) -> None:
    rule = await _trigger(
        api,
        "Urgent to tier 2",
        {"all": [{"field": "priority", "operator": "changed_to", "value": "urgent"}]},
        [
            {"type": "set", "field": "group_id", "value": GROUP},
            {"type": "set", "field": "assignee_id", "value": AGENT},
            {"type": "add_tags", "tags": ["Escalated"]},
            {"type": "remove_tags", "tags": ["low-touch"]},
            {"type": "add_note", "text": "Escalated by rule."},
        ],
    )
    case = await _case(api, tags=["low-touch"])
    assert case["group_id"] is None, "creation alone does not match"
    updated = await _patch(api, case, {"priority": "urgent"})
    assert updated["group_id"] == GROUP
    assert updated["assignee_id"] == AGENT
    assert updated["status"] == "open", "assigning a new case opens it"
    assert updated["tags"] == ["escalated"]
    history = (await api.get(f"/api/v1/cases/{case['id']}/history")).json()["items"]
    by_rule = {h["field"] for h in history if h["actor"] == f"trigger:{rule['id']}"}
    assert {"group_id", "assignee_id", "tags"} <= by_rule
    messages = (await api.get(f"/api/v1/cases/{case['id']}/messages")).json()["items"]
    notes = [m for m in messages if not m["public"]]
    assert [n["text"] for n in notes] == ["Escalated by rule."]
    [run] = await _runs(api, case["id"])
    assert run["fired"] == [{"trigger_id": rule["id"], "name": "Urgent to tier 2"}]
    assert run["stopped_reason"] is None
    # Urgent again is no change: nothing fires twice.
    await _patch(api, updated, {"subject": "Still on fire"})
    assert len(await _runs(api, case["id"])) == 1


async def test_all_and_any_conditions_on_new_cases(api: httpx.AsyncClient) -> None:
    await _trigger(
        api,
        "Money matters",
        {
            "all": [{"field": "update_type", "operator": "is", "value": "created"}],
            "any": [
                {"field": "subject", "operator": "contains", "value": "refund"},
                {"field": "tags", "operator": "contains", "value": "billing"},
            ],
        },
        [{"type": "set", "field": "priority", "value": "high"}],
    )
    assert (await _case(api, "REFUND please"))["priority"] == "high"
    assert (await _case(api, "Question", tags=["billing"]))["priority"] == "high"
    plain = await _case(api, "Question")
    assert plain["priority"] == "normal"
    # On an update the rule's `created` condition does not hold.
    assert (await _patch(api, plain, {"add_tags": ["billing"]}))["priority"] == "normal"


async def test_rules_run_in_order_and_a_later_rules_change_reaches_an_earlier_one(api: httpx.AsyncClient) -> None:
    vip = await _trigger(
        api,
        "VIPs are urgent",
        {
            "all": [
                {"field": "tags", "operator": "contains", "value": "vip"},
                {"field": "priority", "operator": "is_not", "value": "urgent"},
            ]
        },
        [{"type": "set", "field": "priority", "value": "urgent"}],
    )
    outage = await _trigger(
        api,
        "Outages are VIP",
        {"all": [{"field": "subject", "operator": "contains", "value": "outage"}]},
        [{"type": "add_tags", "tags": ["vip"]}],
    )
    listed = (await api.get("/api/v1/triggers")).json()["items"]
    assert [t["name"] for t in listed] == ["VIPs are urgent", "Outages are VIP"]
    assert [t["position"] for t in listed] == [0, 1]
    case = await _case(api, "Total outage")
    assert case["tags"] == ["vip"]
    assert case["priority"] == "urgent"
    [run] = await _runs(api, case["id"])
    assert [f["trigger_id"] for f in run["fired"]] == [outage["id"], vip["id"]]
    # Deactivated, a rule no longer fires.
    await api.patch(f"/api/v1/triggers/{outage['id']}", json={"active": False})
    assert (await _case(api, "Another outage"))["tags"] == []


async def test_rules_that_undo_each_other_fire_once_and_the_loop_is_recorded(api: httpx.AsyncClient) -> None:
    raise_it = await _trigger(
        api,
        "Raise",
        {
            "all": [
                {"field": "priority", "operator": "changed", "value": None},
                {"field": "priority", "operator": "is_not", "value": "high"},
            ]
        },
        [{"type": "set", "field": "priority", "value": "high"}],
    )
    lower_it = await _trigger(
        api,
        "Lower",
        {"all": [{"field": "priority", "operator": "changed_to", "value": "high"}]},
        [{"type": "set", "field": "priority", "value": "low"}],
    )
    case = await _case(api)
    updated = await _patch(api, case, {"priority": "urgent"})
    assert updated["priority"] == "low", "each fired once: raise, then lower; no ping-pong"
    [run] = await _runs(api, case["id"])
    assert [f["trigger_id"] for f in run["fired"]] == [raise_it["id"], lower_it["id"]]
    assert "loop stopped" in run["stopped_reason"]
    assert "'Raise'" in run["stopped_reason"]
    assert "'Lower'" in run["stopped_reason"]


async def test_a_rule_the_case_rules_refuse_is_skipped_and_the_change_stands(api: httpx.AsyncClient) -> None:
    await _trigger(
        api,
        "Close at once",
        {"all": [{"field": "update_type", "operator": "is", "value": "created"}]},
        [{"type": "set", "field": "status", "value": "closed"}, {"type": "add_tags", "tags": ["closed-by-rule"]}],
    )
    case = await _case(api)
    assert case["status"] == "new"
    assert case["tags"] == [], "a refused rule changes nothing at all"
    [run] = await _runs(api, case["id"])
    assert run["fired"] == []
    assert "'Close at once' could not apply" in run["stopped_reason"]


async def test_dry_run_shows_what_would_fire_and_keeps_nothing(api: httpx.AsyncClient) -> None:
    rule = await _trigger(
        api,
        "Urgent to tier 2",
        {"all": [{"field": "priority", "operator": "changed_to", "value": "urgent"}]},
        [{"type": "set", "field": "group_id", "value": GROUP}, {"type": "add_note", "text": "Escalated."}],
    )
    case = await _case(api)
    before = await api.get(f"/api/v1/cases/{case['id']}")
    response = await api.post(
        "/api/v1/triggers/dry-run", json={"case_id": case["id"], "changes": {"priority": "urgent"}}
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["fired"] == [{"trigger_id": rule["id"], "name": "Urgent to tier 2"}]
    assert result["changes"]["group_id"] == {"old": None, "new": GROUP}
    nothing = await api.post("/api/v1/triggers/dry-run", json={"case_id": case["id"]})
    assert nothing.json()["fired"] == []
    after = await api.get(f"/api/v1/cases/{case['id']}")
    assert after.headers["ETag"] == before.headers["ETag"]
    assert after.json() == before.json()
    assert await _runs(api, case["id"]) == []
    messages = (await api.get(f"/api/v1/cases/{case['id']}/messages")).json()["items"]
    assert all(m["public"] for m in messages)


async def test_bad_rules_and_dry_runs_get_per_field_problems_and_change_nothing(
    api: httpx.AsyncClient, agent: dict[str, str]
) -> None:
    good_conditions = {"all": [{"field": "status", "operator": "is", "value": "new"}]}
    cases = [
        ({"name": "x", "conditions": {}, "actions": [{"type": "add_tags", "tags": ["a"]}]}, "body.conditions"),
        ({"name": "x", "conditions": good_conditions, "actions": []}, "body.actions"),
        ({"name": "x", "conditions": good_conditions, "actions": [{"type": "explode"}]}, "body.actions.0"),
        (
            {
                "name": "x",
                "conditions": good_conditions,
                "actions": [{"type": "set", "field": "status", "value": "exploded"}],
            },
            "body.actions.0.value",
        ),
        (
            {
                "name": "x",
                "conditions": good_conditions,
                "actions": [{"type": "set", "field": "group_id", "value": "nope"}],
            },
            "body.actions.0.value",
        ),
        ({"name": "", "conditions": good_conditions, "actions": [{"type": "add_tags", "tags": ["a"]}]}, "body.name"),
    ]
    for body, field in cases:
        response = await api.post("/api/v1/triggers", json=body)
        assert response.status_code == 422, body
        fields = [error["field"] for error in response.json()["errors"]]
        assert any(f.startswith(field) for f in fields), (field, fields)
    forbidden = await api.post(
        "/api/v1/triggers",
        headers=agent,
        json={"name": "x", "conditions": good_conditions, "actions": [{"type": "add_tags", "tags": ["a"]}]},
    )
    assert forbidden.status_code == 403
    assert (await api.get("/api/v1/triggers")).json()["items"] == []
    case = await _case(api)
    bad = await api.post("/api/v1/triggers/dry-run", json={"case_id": case["id"], "changes": {"priority": "meh"}})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"].startswith("body.changes.priority")
    # A link to a problem for a case whose stored type is not an incident: the stored state
    # refuses it (a 409 naming the field), as a real change would be refused.
    problem = await _case(api, type="problem")
    linked = await api.post(
        "/api/v1/triggers/dry-run", json={"case_id": case["id"], "changes": {"problem_id": problem["id"]}}
    )
    assert linked.status_code == 409, linked.text
    assert [error["field"] for error in linked.json()["errors"]] == ["body.changes.problem_id"]
    missing = await api.post("/api/v1/triggers/dry-run", json={"case_id": str(uuid.uuid4())})
    assert missing.status_code == 404
    assert (await api.get(f"/api/v1/triggers/{uuid.uuid4()}")).status_code == 404


async def test_a_rule_emails_the_requester_a_personal_text_and_calls_a_webhook(
    api: httpx.AsyncClient, published: Published
) -> None:
    assert (await api.post("/api/v1/webhooks/allowed-networks", json={"network": "127.0.0.1/32"})).status_code == 201
    hook = (
        await api.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/crm", "event_types": ["case.created"]})
    ).json()
    rule = await _trigger(
        api,
        "Password help",
        {"all": [{"field": "subject", "operator": "contains", "value": "password"}]},
        [
            {"type": "email_requester", "text": "Hi {{requester.first_name}}, reset it at example.com/reset."},
            {"type": "notify_webhook", "webhook_id": hook["id"]},
        ],
    )
    body = {
        "subject": "Forgot my password",
        "requester": {"email": f"{uuid.uuid4().hex[:8]}@x.example", "name": "Ada L"},
    }
    case = (await api.post("/api/v1/cases", json=body)).json()
    messages = (await api.get(f"/api/v1/cases/{case['id']}/messages")).json()["items"]
    assert [(m["public"], m["text"]) for m in messages] == [(True, "Hi Ada, reset it at example.com/reset.")]
    assert [k for k, _ in await published(case["id"])].count("outbound.message_requested") == 1
    [delivery] = (await api.get(f"/api/v1/webhooks/{hook['id']}/deliveries")).json()["items"]
    assert delivery["event_type"] == "trigger.fired"
    detail = (await api.get(f"/api/v1/webhooks/{hook['id']}/deliveries/{delivery['id']}")).json()
    assert detail["payload"]["data"]["trigger"] == {"id": rule["id"], "name": "Password help"}
    assert detail["payload"]["data"]["case"]["case_id"] == case["id"]
    unknown = await api.post(
        "/api/v1/triggers",
        json={
            "name": "x",
            "conditions": {"all": [{"field": "status", "operator": "is", "value": "new"}]},
            "actions": [{"type": "notify_webhook", "webhook_id": str(uuid.uuid4())}],
        },
    )
    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["field"] == "body.actions.0.webhook_id"
    placeholder = await api.post(
        "/api/v1/triggers",
        json={
            "name": "x",
            "conditions": {"all": [{"field": "status", "operator": "is", "value": "new"}]},
            "actions": [{"type": "email_requester", "text": "Hi {{requester.nickname}}"}],
        },
    )
    assert placeholder.status_code == 422


async def test_a_rule_on_business_hours_follows_the_clock(api: httpx.AsyncClient, settings: CaseCoreSettings) -> None:
    office = {
        "timezone": "Europe/Berlin",
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "start": "09:00",
        "end": "17:00",
    }
    await _trigger(
        api,
        "After hours",
        {
            "all": [
                {"field": "update_type", "operator": "is", "value": "created"},
                {"field": "time", "operator": "outside", "value": office},
            ]
        },
        [{"type": "add_tags", "tags": ["after-hours"]}],
    )
    clock = ManualClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))  # Monday, 10:00 in Berlin
    previous = set_clock(clock)
    try:
        # Identities signed by the moved clock, as the gateway's would be at that time.
        api.auth = GatewayIdentity(settings.internal_secret, role="admin", scopes=STAFF_SCOPES)
        assert (await _case(api, "in hours"))["tags"] == []
        await clock.advance(5 * 24 * 3600)  # Saturday
        assert (await _case(api, "on the weekend"))["tags"] == ["after-hours"]
    finally:
        set_clock(previous)


async def test_a_customer_reply_reopening_a_pending_case_runs_the_rules_once_with_the_loop_stop(
    api: httpx.AsyncClient, deliver: Deliver, email: Email, address: str
) -> None:
    await _trigger(
        api,
        "Customer came back",
        {"all": [{"field": "status", "operator": "changed_from", "value": "pending"}]},
        [{"type": "set", "field": "priority", "value": "high"}, {"type": "add_tags", "tags": ["reopened"]}],
    )
    await _trigger(
        api,
        "Ping",
        {"all": [{"field": "tags", "operator": "contains", "value": "reopened"}]},
        [{"type": "add_tags", "tags": ["ping"]}, {"type": "remove_tags", "tags": ["pong"]}],
    )
    await _trigger(
        api,
        "Pong",
        {"all": [{"field": "tags", "operator": "contains", "value": "ping"}]},
        [{"type": "add_tags", "tags": ["pong"]}, {"type": "remove_tags", "tags": ["ping"]}],
    )
    first = email(address)
    await deliver(first)
    contact = (await api.get("/api/v1/contacts", params={"q": address})).json()["items"][0]
    [case] = (await api.get(f"/api/v1/contacts/{contact['id']}/cases")).json()["items"]
    await _patch(api, case, {"status": "pending"})
    assert await _runs(api, case["id"]) == []

    await deliver(email(address, subject="Re: Printer on fire", in_reply_to=[first.message_id]))
    reopened = (await api.get(f"/api/v1/cases/{case['id']}")).json()
    assert (reopened["status"], reopened["priority"]) == ("open", "high")
    assert "reopened" in reopened["tags"]
    [run] = await _runs(api, case["id"])
    assert [fired["name"] for fired in run["fired"]] == ["Customer came back", "Ping", "Pong"]
    assert run["stopped_reason"].startswith("loop stopped: trigger 'Ping'")

    # A further reply to the open case changes no field: nothing to run the rules on.
    await deliver(email(address, subject="Re: Printer on fire", in_reply_to=[first.message_id], text="More."))
    assert len(await _runs(api, case["id"])) == 1


async def test_a_customer_reply_to_a_solved_case_runs_the_rules(
    api: httpx.AsyncClient, deliver: Deliver, email: Email, address: str
) -> None:
    await _trigger(
        api,
        "Solved, then not",
        {"all": [{"field": "status", "operator": "changed_from", "value": "solved"}]},
        [{"type": "add_note", "text": "The customer wrote back after we solved it."}],
    )
    first = email(address)
    await deliver(first)
    contact = (await api.get("/api/v1/contacts", params={"q": address})).json()["items"][0]
    [case] = (await api.get(f"/api/v1/contacts/{contact['id']}/cases")).json()["items"]
    await _patch(api, case, {"status": "solved"})
    await deliver(email(address, subject="Re: Printer on fire", in_reply_to=[first.message_id]))
    messages = (await api.get(f"/api/v1/cases/{case['id']}/messages")).json()["items"]
    assert messages[-1]["text"] == "The customer wrote back after we solved it."
    assert messages[-1]["public"] is False
    [run] = await _runs(api, case["id"])
    assert [fired["name"] for fired in run["fired"]] == ["Solved, then not"]


async def test_a_merge_runs_the_rules_on_the_closed_source_and_on_the_target(api: httpx.AsyncClient) -> None:
    hook = (
        await api.post("/api/v1/webhooks", json={"url": "http://93.184.216.34/crm", "event_types": ["case.created"]})
    ).json()
    await _trigger(
        api,
        "Tell the CRM a case closed",
        {"all": [{"field": "status", "operator": "changed_to", "value": "closed"}]},
        [{"type": "notify_webhook", "webhook_id": hook["id"]}],
    )
    await _trigger(
        api,
        "VIP case grew",
        {
            "all": [
                {"field": "update_type", "operator": "is", "value": "updated"},
                {"field": "tags", "operator": "contains", "value": "vip"},
            ]
        },
        [{"type": "add_tags", "tags": ["merged-vip"]}],
    )
    target = await _case(api, "Printer on fire", tags=["vip"])
    source = await _case(api, "Printer still on fire")
    merged = await api.post(f"/api/v1/cases/{target['id']}/merge", json={"source_case_id": source["id"]})
    assert merged.status_code == 200, merged.text
    assert "merged-vip" in merged.json()["tags"], "the answer shows the rules' effect"
    [source_run] = await _runs(api, source["id"])
    assert [fired["name"] for fired in source_run["fired"]] == ["Tell the CRM a case closed"]
    [delivery] = (await api.get(f"/api/v1/webhooks/{hook['id']}/deliveries")).json()["items"]
    detail = (await api.get(f"/api/v1/webhooks/{hook['id']}/deliveries/{delivery['id']}")).json()
    assert detail["payload"]["data"]["case"]["case_id"] == source["id"]
    [target_run] = await _runs(api, target["id"])
    assert [fired["name"] for fired in target_run["fired"]] == ["VIP case grew"]


async def test_an_agents_first_reply_opening_a_new_case_runs_the_rules(api: httpx.AsyncClient) -> None:
    await _trigger(
        api,
        "Answered",
        {"all": [{"field": "status", "operator": "changed_from", "value": "new"}]},
        [{"type": "add_tags", "tags": ["answered"]}],
    )
    case = await _case(api)
    reply = await api.post(f"/api/v1/cases/{case['id']}/messages", json={"text": "On it.", "public": True})
    assert reply.status_code == 201, reply.text
    current = (await api.get(f"/api/v1/cases/{case['id']}")).json()
    assert (current["status"], current["tags"]) == ("open", ["answered"])
    # An internal note moves nothing: no rules run for it.
    note = await api.post(f"/api/v1/cases/{case['id']}/messages", json={"text": "fyi", "public": False})
    assert note.status_code == 201
    assert len(await _runs(api, case["id"])) == 1
