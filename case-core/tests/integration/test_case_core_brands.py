"""Brands: the API (good and bad input), a case carrying its channel's brand, brand in triggers and views."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from omnicase.case_core.testing import Deliver, Email, Published, auto_responses, cases_of
from omnicase.kit.events import CaseDefaults

pytestmark = pytest.mark.asyncio


@pytest.fixture
def slug() -> str:
    """A brand slug of this test alone."""
    return f"brand-{uuid.uuid4().hex[:10]}"


async def _brand(api: httpx.AsyncClient, slug: str, **extra: Any) -> dict[str, Any]:
    response = await api.post("/api/v1/brands", json={"name": slug.title(), "slug": slug, **extra})
    assert response.status_code == 201, response.text
    brand: dict[str, Any] = response.json()
    return brand


async def test_a_brand_keeps_its_look_locales_hours_and_csat_overrides(api: httpx.AsyncClient, slug: str) -> None:
    schedule, policy = uuid.uuid4(), uuid.uuid4()
    body = {
        "name": "Acme China",
        "slug": slug,
        "default_locale": "zh",
        "supported_locales": ["en", "zh"],
        "logo_url": "https://cdn.acme.example/logo.png",
        "colors": {"primary": "#0b5fff", "accent": "#ffaa00"},
        "email_signature": "Acme 客服团队",
        "time_zone": "Asia/Shanghai",
        "business_hours_id": str(schedule),
        "sla_policy_id": str(policy),
        "csat": {"enabled": True, "delay_seconds": 3600},
    }
    response = await api.post("/api/v1/brands", json=body)
    assert response.status_code == 201, response.text
    brand = response.json()
    assert response.headers["Location"] == f"/api/v1/brands/{brand['id']}"
    # The default locale is always supported, first.
    assert brand["supported_locales"] == ["zh", "en"]
    assert brand["colors"] == {"primary": "#0b5fff", "accent": "#ffaa00"}
    assert brand["csat"] == {"enabled": True, "delay_seconds": 3600, "texts": {}}
    assert (brand["time_zone"], brand["business_hours_id"], brand["sla_policy_id"]) == (
        "Asia/Shanghai",
        str(schedule),
        str(policy),
    )
    assert (await api.get(f"/api/v1/brands/{brand['id']}")).json() == brand
    assert brand in (await api.get("/api/v1/brands")).json()["items"]

    changed = await api.patch(
        f"/api/v1/brands/{brand['id']}", json={"default_locale": "ko", "logo_url": None, "email_signature": "Acme"}
    )
    assert changed.status_code == 200, changed.text
    after = changed.json()
    assert after["supported_locales"] == ["ko", "zh", "en"]
    assert (after["logo_url"], after["email_signature"], after["slug"]) == (None, "Acme", slug)

    assert (await api.delete(f"/api/v1/brands/{brand['id']}")).status_code == 204
    gone = await api.get(f"/api/v1/brands/{brand['id']}")
    assert gone.status_code == 404
    assert gone.headers["content-type"] == "application/problem+json"
    assert gone.json()["type"].endswith("brand-not-found")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"slug": "Not A Slug"}, "body.slug"),
        ({"default_locale": "Chinese"}, "body.default_locale"),
        ({"supported_locales": ["en", "en"]}, "body.supported_locales"),
        ({"time_zone": "Mars/Olympus"}, "body.time_zone"),
        ({"colors": {"primary": "blue"}}, "body.colors.primary"),
        ({"logo_url": "javascript:alert(1)"}, "body.logo_url"),
        ({"csat": {"delay_seconds": -1}}, "body.csat.delay_seconds"),
        ({"brand_color": "#000000"}, "body.brand_color"),
    ],
)
async def test_a_bad_brand_is_refused_naming_the_field_and_nothing_is_kept(
    api: httpx.AsyncClient, slug: str, body: dict[str, Any], field: str
) -> None:
    response = await api.post("/api/v1/brands", json={"name": "Acme", "slug": slug, **body})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {error["field"] for error in response.json()["errors"]}
    assert all(brand["slug"] != slug for brand in (await api.get("/api/v1/brands")).json()["items"])


async def test_a_taken_slug_a_null_name_and_an_unknown_brand_are_refused(api: httpx.AsyncClient, slug: str) -> None:
    brand = await _brand(api, slug)
    taken = await api.post("/api/v1/brands", json={"name": "Other", "slug": slug})
    assert taken.status_code == 409
    assert taken.json()["type"].endswith("brand-slug-taken")

    nulled = await api.patch(f"/api/v1/brands/{brand['id']}", json={"name": None})
    assert nulled.status_code == 422
    assert "body.name" in {error["field"] for error in nulled.json()["errors"]}
    fixed_slug = await api.patch(f"/api/v1/brands/{brand['id']}", json={"slug": "renamed"})
    assert fixed_slug.status_code == 422
    assert (await api.get(f"/api/v1/brands/{brand['id']}")).json() == brand

    assert (await api.patch(f"/api/v1/brands/{uuid.uuid4()}", json={"name": "x"})).status_code == 404
    assert (await api.delete(f"/api/v1/brands/{uuid.uuid4()}")).status_code == 404


async def test_only_admins_manage_brands_and_agents_read_them(
    api: httpx.AsyncClient, agent: dict[str, str], slug: str
) -> None:
    brand = await _brand(api, slug)
    assert (await api.get(f"/api/v1/brands/{brand['id']}", headers=agent)).status_code == 200
    refused = await api.post("/api/v1/brands", json={"name": "x", "slug": f"{slug}-2"}, headers=agent)
    assert refused.status_code == 403
    assert (await api.delete(f"/api/v1/brands/{brand['id']}", headers=agent)).status_code == 403


async def test_a_case_from_a_brands_channel_carries_the_brand_and_the_brand_stays_while_it_has_cases(
    api: httpx.AsyncClient, deliver: Deliver, email: Email, address: str, slug: str, published: Published
) -> None:
    brand = await _brand(api, slug)
    await deliver(email(address, defaults=CaseDefaults(brand=slug)))
    [case] = await cases_of(api, address)
    assert (case["brand"], case["brand_id"]) == (slug, brand["id"])
    [(_, created)] = [event for event in await published(case["id"]) if event[0] == "case.created"]
    assert created["case"]["brand_id"] == brand["id"]

    listed = (await api.get("/api/v1/cases", params={"brand_id": brand["id"]})).json()["items"]
    assert [item["id"] for item in listed] == [case["id"]]

    in_use = await api.delete(f"/api/v1/brands/{brand['id']}")
    assert in_use.status_code == 409
    assert in_use.json()["type"].endswith("still-in-use")

    # A string no brand has is kept as it is, without an id; setting a defined brand sets its id.
    loose = await api.post(
        "/api/v1/cases", json={"subject": "loose", "brand": "nobody-defined", "requester": {"email": address}}
    )
    assert (loose.json()["brand"], loose.json()["brand_id"]) == ("nobody-defined", None)
    moved = await api.patch(f"/api/v1/cases/{loose.json()['id']}", json={"brand": slug}, headers={"If-Match": '"1"'})
    assert moved.status_code == 200, moved.text
    assert moved.json()["brand_id"] == brand["id"]


async def test_triggers_and_views_select_cases_by_brand_id(
    api: httpx.AsyncClient, deliver: Deliver, email: Email, address: str, slug: str
) -> None:
    brand = await _brand(api, slug)
    trigger = {
        "name": f"Tag {slug}",
        "conditions": {
            "all": [
                {"field": "update_type", "operator": "is", "value": "created"},
                {"field": "brand_id", "operator": "is", "value": brand["id"]},
            ]
        },
        "actions": [{"type": "add_tags", "tags": [slug]}],
    }
    response = await api.post("/api/v1/triggers", json=trigger)
    assert response.status_code == 201, response.text
    await deliver(email(address, defaults=CaseDefaults(brand=slug)))
    other = f"other-{address}"
    await deliver(email(other))
    [branded] = await cases_of(api, address)
    [plain] = await cases_of(api, other)
    assert slug in branded["tags"]
    assert slug not in plain["tags"]

    view = await api.post("/api/v1/views", json={"name": slug, "filters": {"brand_id": brand["id"]}})
    assert view.status_code == 201, view.text
    shown = (await api.get(f"/api/v1/views/{view.json()['id']}/cases")).json()["items"]
    assert [item["id"] for item in shown] == [branded["id"]]
    bad = await api.post("/api/v1/views", json={"name": "bad", "filters": {"brand_id": "acme"}})
    assert bad.status_code == 422
    assert "body.filters.brand_id" in {error["field"] for error in bad.json()["errors"]}


async def test_the_auto_response_of_a_branded_case_carries_the_brands_look_in_the_cases_language(
    api: httpx.AsyncClient, deliver: Deliver, email: Email, address: str, slug: str, published: Published
) -> None:
    await _brand(
        api,
        slug,
        default_locale="ko",
        supported_locales=["zh"],
        email_signature="Acme 고객지원팀",
        logo_url="https://cdn.acme.example/logo.png",
        colors={"primary": "#0b5fff"},
    )
    chinese = "我的订单还没有到，能帮我查一下在哪里吗？"  # noqa: RUF001 (Chinese punctuation)
    await deliver(email(address, "订单", chinese, metadata={"auto_response": True}, defaults=CaseDefaults(brand=slug)))
    [case] = await cases_of(api, address)
    [answer] = auto_responses(await published(case["id"]))
    assert answer["brand"] == {
        "slug": slug,
        "name": slug.title(),
        "signature": "Acme 고객지원팀",
        "logo_url": "https://cdn.acme.example/logo.png",
        "primary_color": "#0b5fff",
        "locale": "zh",
    }

    plain = f"plain-{address}"
    await deliver(email(plain, metadata={"auto_response": True}, defaults=CaseDefaults(brand="nobody-defined")))
    [other] = await cases_of(api, plain)
    assert auto_responses(await published(other["id"]))[0]["brand"] is None
