"""The configuration API: schedules, policies, automations, reports; bad input changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from omnicase.devtools.testing.apps import GatewayIdentity, running
from omnicase.devtools.testing.plugin import SettingsFactory
from omnicase.sla_engine.app import create_app
from omnicase.sla_engine.settings import SlaEngineSettings

# Through the gateway, as an admin (people get their role's scopes).
SLA_SCOPES = frozenset({"sla:read", "sla:write"})

pytestmark = pytest.mark.asyncio

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")


@pytest_asyncio.fixture
async def client(service_settings: SettingsFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(service_settings(SlaEngineSettings)), scopes=SLA_SCOPES) as client:
        yield client


def schedule_body(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": f"Office {uuid.uuid4().hex[:6]}",
        "time_zone": "Europe/Berlin",
        "intervals": [{"day": day, "start": "09:00", "end": "17:00"} for day in WEEKDAYS],
        "holidays": [{"name": "Christmas", "start_date": "2026-12-24", "end_date": "2026-12-26"}],
    }
    body.update(fields)
    return body


def problem_fields(response: httpx.Response) -> dict[str, str]:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return {error["field"]: error["code"] for error in response.json()["errors"]}


async def test_schedules_are_created_listed_changed_and_deleted(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/v1/business-hours", json=schedule_body(name="Berlin office"))
    assert created.status_code == 201, created.text
    schedule = created.json()
    assert schedule["time_zone"] == "Europe/Berlin"
    assert schedule["holidays"][0]["end_date"] == "2026-12-26"

    holiday = await client.post(
        f"/api/v1/business-hours/{schedule['id']}/holidays", json={"name": "New Year", "start_date": "2027-01-01"}
    )
    assert holiday.status_code == 201
    new_year = holiday.json()["holidays"][-1]
    assert (new_year["start_date"], new_year["end_date"]) == ("2027-01-01", "2027-01-01")
    removed = await client.delete(f"/api/v1/business-hours/{schedule['id']}/holidays/{new_year['id']}")
    assert [h["name"] for h in removed.json()["holidays"]] == ["Christmas"]

    replaced = await client.put(
        f"/api/v1/business-hours/{schedule['id']}", json=schedule_body(name="Berlin office", time_zone="UTC")
    )
    assert replaced.json()["time_zone"] == "UTC"
    assert (await client.get(f"/api/v1/business-hours/{schedule['id']}")).json()["time_zone"] == "UTC"

    assert (await client.delete(f"/api/v1/business-hours/{schedule['id']}")).status_code == 204
    gone = await client.get(f"/api/v1/business-hours/{schedule['id']}")
    assert gone.status_code == 404
    assert gone.json()["type"].endswith("/schedule-not-found")


async def test_a_replace_gives_the_schedule_its_bodys_holidays_and_an_earlier_holiday_id_is_gone(
    client: httpx.AsyncClient,
) -> None:
    schedule = (await client.post("/api/v1/business-hours", json=schedule_body(holidays=[]))).json()
    added = await client.post(
        f"/api/v1/business-hours/{schedule['id']}/holidays", json={"name": "New Year", "start_date": "2027-01-01"}
    )
    new_year = added.json()["holidays"][-1]
    # The replace says every holiday the schedule has: the one added before it is not among them.
    replaced = await client.put(f"/api/v1/business-hours/{schedule['id']}", json=schedule_body())
    assert [holiday["name"] for holiday in replaced.json()["holidays"]] == ["Christmas"]
    gone = await client.delete(f"/api/v1/business-hours/{schedule['id']}/holidays/{new_year['id']}")
    assert gone.status_code == 404
    assert gone.json()["type"].endswith("/holiday-not-found")
    assert (await client.get(f"/api/v1/business-hours/{schedule['id']}")).json() == replaced.json()


async def test_bad_schedules_are_refused_field_by_field(client: httpx.AsyncClient) -> None:
    unknown_zone = await client.post("/api/v1/business-hours", json=schedule_body(time_zone="Mars/Olympus"))
    assert unknown_zone.status_code == 422
    assert "body.time_zone" in problem_fields(unknown_zone)
    assert "Mars/Olympus" in unknown_zone.text

    backwards = await client.post(
        "/api/v1/business-hours",
        json=schedule_body(
            intervals=[
                {"day": "monday", "start": "17:00", "end": "09:00"},
                {"day": "tuesday", "start": "09:00", "end": "13:00"},
                {"day": "tuesday", "start": "12:00", "end": "18:00"},
            ],
            holidays=[{"name": "Oops", "start_date": "2026-12-26", "end_date": "2026-12-24"}],
        ),
    )
    # A night (end before start) and overlapping intervals are a schedule; a holiday ending before it starts is not.
    assert backwards.status_code == 422
    assert problem_fields(backwards) == {"body.holidays.0.end_date": "date_order"}
    bad_time = await client.post(
        "/api/v1/business-hours", json=schedule_body(intervals=[{"day": "funday", "start": "25:00", "end": "09:00"}])
    )
    assert set(problem_fields(bad_time)) == {"body.intervals.0.day", "body.intervals.0.start"}
    assert (await client.post("/api/v1/business-hours", json=schedule_body(intervals=[]))).status_code == 422
    closed_for_years = await client.post(
        "/api/v1/business-hours",
        json=schedule_body(holidays=[{"name": "Sabbatical", "start_date": "2026-01-01", "end_date": "2028-01-01"}]),
    )
    assert problem_fields(closed_for_years) == {"body.holidays.0.end_date": "too_long"}

    name = f"never-{uuid.uuid4().hex[:6]}"
    await client.post("/api/v1/business-hours", json=schedule_body(name=name, time_zone="Nowhere/City"))
    listed = (await client.get("/api/v1/business-hours", params={"limit": 200})).json()["items"]
    assert name not in [item["name"] for item in listed]


async def test_schedule_lists_page_with_a_cursor(client: httpx.AsyncClient) -> None:
    prefix = f"page-{uuid.uuid4().hex[:6]}"
    for index in range(3):
        await client.post("/api/v1/business-hours", json=schedule_body(name=f"{prefix}-{index}"))
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/business-hours", params=params)).json()
        seen += [item["name"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [name for name in seen if name.startswith(prefix)] == [f"{prefix}-{index}" for index in range(3)]
    assert len(seen) == len(set(seen))
    bad = await client.get("/api/v1/business-hours", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 422
    assert [error["field"] for error in bad.json()["errors"]] == ["query.cursor"]


async def test_policies_validate_targets_schedules_and_actions(client: httpx.AsyncClient, brand: str) -> None:
    no_schedule = await client.post(
        "/api/v1/sla/policies",
        json={
            "name": "Business hours without schedule",
            "conditions": {"brand": [brand]},
            "targets": {"high": {"first_reply": {"minutes": 60, "business_hours": True}}},
        },
    )
    assert problem_fields(no_schedule) == {"body.targets.high.first_reply.business_hours": "schedule_required"}
    unknown_schedule = await client.post(
        "/api/v1/sla/policies",
        json={"name": "x", "schedule_id": str(uuid.uuid4()), "targets": {"high": {"first_reply": {"minutes": 60}}}},
    )
    assert unknown_schedule.status_code == 404
    assert problem_fields(unknown_schedule) == {"body.schedule_id": "not_found"}
    malformed = await client.post(
        "/api/v1/sla/policies",
        json={
            "name": "x",
            "targets": {"critical": {"first_reply": {"minutes": 0}}},
            "warning_percent": 100,
            "escalations": [{"on": "breach", "actions": [{"type": "delete_case"}]}],
        },
    )
    assert malformed.status_code == 422
    fields = problem_fields(malformed)
    assert "body.warning_percent" in fields
    assert any(field.startswith("body.targets") for field in fields)
    assert any(field.startswith("body.escalations.0.actions.0") for field in fields)
    # A tag case-core would refuse is refused here, not sent on as a command case-core dead-letters.
    bad_tag = await client.post(
        "/api/v1/sla/policies",
        json={
            "name": "x",
            "targets": {"high": {"first_reply": {"minutes": 60}}},
            "escalations": [{"on": "breach", "actions": [{"type": "add_tags", "tags": ["br³"]}]}],
        },
    )
    assert bad_tag.status_code == 422, bad_tag.text
    assert any(field.startswith("body.escalations.0.actions.0") for field in problem_fields(bad_tag))
    listed = (await client.get("/api/v1/sla/policies", params={"limit": 200})).json()["items"]
    assert brand not in str(listed)

    schedule = (await client.post("/api/v1/business-hours", json=schedule_body())).json()
    created = await client.post(
        "/api/v1/sla/policies",
        json={
            "name": f"Gold {brand}",
            "conditions": {"brand": [brand], "priority": ["high", "urgent"], "tags_any": ["vip"]},
            "targets": {
                "high": {"first_reply": {"minutes": 60, "business_hours": True}, "resolution": {"minutes": 960}}
            },
            "schedule_id": schedule["id"],
            "escalations": [{"on": "breach", "actions": [{"type": "webhook", "url": "https://hooks.example.com/sla"}]}],
        },
    )
    assert created.status_code == 201, created.text
    policy = created.json()
    assert policy["warning_percent"] == 75
    in_use = await client.delete(f"/api/v1/business-hours/{schedule['id']}")
    assert in_use.status_code == 409
    assert in_use.json()["type"].endswith("/schedule-in-use")

    replaced = await client.put(
        f"/api/v1/sla/policies/{policy['id']}",
        json={
            "name": f"Gold {brand}",
            "conditions": {"brand": [brand]},
            "targets": {"low": {"resolution": {"minutes": 5}}},
        },
    )
    assert replaced.json()["position"] == policy["position"]
    assert (await client.delete(f"/api/v1/sla/policies/{policy['id']}")).status_code == 204
    assert (await client.get(f"/api/v1/sla/policies/{policy['id']}")).status_code == 404
    assert (await client.delete(f"/api/v1/business-hours/{schedule['id']}")).status_code == 204


async def test_automations_validate_their_time_condition(client: httpx.AsyncClient, brand: str) -> None:
    contradiction = await client.post(
        "/api/v1/automations",
        json={
            "name": "x",
            "conditions": {"brand": [brand], "status": ["open"]},
            "time_condition": {"since": "pending", "hours": 96, "business_hours": True},
            "actions": [{"type": "set_status", "status": "solved"}],
        },
    )
    assert problem_fields(contradiction) == {
        "body.time_condition.business_hours": "schedule_required",
        "body.conditions.status": "contradiction",
    }
    no_actions = await client.post(
        "/api/v1/automations",
        json={"name": "x", "time_condition": {"since": "created", "hours": 0}, "actions": []},
    )
    assert set(problem_fields(no_actions)) == {"body.time_condition.hours", "body.actions"}

    created = await client.post(
        "/api/v1/automations",
        json={
            "name": "Remind quiet customers",
            "conditions": {"brand": [brand], "status": ["pending"]},
            "time_condition": {"since": "pending", "hours": 24},
            "actions": [{"type": "notify_email", "to": ["customer-care@example.com"], "subject": "Still there?"}],
        },
    )
    assert created.status_code == 201, created.text
    automation = created.json()
    assert (await client.get(f"/api/v1/automations/{automation['id']}")).json()["name"] == "Remind quiet customers"
    assert (await client.delete(f"/api/v1/automations/{automation['id']}")).status_code == 204
    assert (await client.delete(f"/api/v1/automations/{automation['id']}")).status_code == 404


async def test_reports_refuse_unknown_cases_and_bad_periods(client: httpx.AsyncClient) -> None:
    unknown = await client.get(f"/api/v1/sla/cases/{uuid.uuid4()}")
    assert unknown.status_code == 404
    assert unknown.json()["type"].endswith("/sla-case-not-found")
    backwards = await client.get(
        "/api/v1/sla/attainment", params={"since": "2026-03-02T00:00:00Z", "until": "2026-03-01T00:00:00Z"}
    )
    assert problem_fields(backwards) == {"query.since": "period_order"}
    too_long = await client.get(
        "/api/v1/sla/attainment", params={"since": "2020-01-01T00:00:00Z", "until": "2026-03-01T00:00:00Z"}
    )
    assert problem_fields(too_long) == {"query.since": "too_long"}
    seconds = await client.get("/api/v1/sla/attainment", params={"until": "0.5"})
    assert seconds.status_code == 422, "a number is not a time, whatever 1970 says"
    assert [error["field"] for error in seconds.json()["errors"]] == ["query.until"]
    bad_interval = await client.get("/api/v1/sla/attainment", params={"interval": "fortnight"})
    assert set(problem_fields(bad_interval)) == {"query.interval"}
    empty = await client.get("/api/v1/sla/attainment", params={"policy_id": str(uuid.uuid4()), "interval": "week"})
    assert empty.status_code == 200
    assert empty.json()["items"] == []


async def test_only_callers_the_gateway_vouches_for_reach_the_api_and_readers_cannot_configure(
    service_settings: SettingsFactory,
) -> None:
    settings = service_settings(SlaEngineSettings)
    async with running(create_app(settings)) as stranger:
        refused = await stranger.post("/api/v1/business-hours", json=schedule_body())
        assert refused.status_code == 401
        assert refused.headers["content-type"].startswith("application/problem+json")

        reader = GatewayIdentity(settings.internal_secret, role="agent", scopes=frozenset({"sla:read"}))
        assert (await stranger.get("/api/v1/business-hours", auth=reader)).status_code == 200
        denied = await stranger.post("/api/v1/business-hours", json=schedule_body(name="Not mine"), auth=reader)
        assert denied.status_code == 403
        assert "sla:write" in denied.json()["detail"]
        listed = (await stranger.get("/api/v1/business-hours", params={"limit": 100}, auth=reader)).json()
        assert "Not mine" not in {schedule["name"] for schedule in listed["items"]}
