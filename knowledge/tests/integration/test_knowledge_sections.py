"""Sections through the API: ordered per brand, changed, deleted; bad input changes nothing."""

from __future__ import annotations

import httpx
import pytest

from omnicase.devtools.devstack.processes import free_port
from omnicase.devtools.testing.apps import GatewayIdentity, running
from omnicase.devtools.testing.plugin import SettingsFactory
from omnicase.knowledge.app import create_app
from omnicase.knowledge.settings import KnowledgeSettings

pytestmark = pytest.mark.asyncio


async def test_sections_are_listed_in_their_brands_order(client: httpx.AsyncClient, brand: str) -> None:
    second = (await client.post("/api/v1/kb/sections", json={"brand": brand, "name": "Billing"})).json()
    first = await client.post("/api/v1/kb/sections", json={"brand": brand, "name": "Sign-in", "position": 0})
    assert first.status_code == 201, first.text
    third = (await client.post("/api/v1/kb/sections", json={"brand": brand, "name": "Shipping"})).json()
    assert (second["position"], third["position"]) == (0, 1)

    listed = (await client.get("/api/v1/kb/sections", params={"brand": brand})).json()
    assert [s["name"] for s in listed["items"]] == ["Billing", "Sign-in", "Shipping"]

    moved = await client.patch(f"/api/v1/kb/sections/{second['id']}", json={"position": 5, "name": "Payments"})
    assert moved.status_code == 200, moved.text
    page = (await client.get("/api/v1/kb/sections", params={"brand": brand, "limit": 2})).json()
    assert [s["name"] for s in page["items"]] == ["Sign-in", "Shipping"]
    rest = (await client.get("/api/v1/kb/sections", params={"brand": brand, "cursor": page["next_cursor"]})).json()
    assert [s["name"] for s in rest["items"]] == ["Payments"]
    assert rest["next_cursor"] is None

    assert (await client.delete(f"/api/v1/kb/sections/{third['id']}")).status_code == 204
    gone = await client.get(f"/api/v1/kb/sections/{third['id']}")
    assert gone.status_code == 404
    assert gone.json()["type"].endswith("/section-not-found")


async def test_bad_sections_are_refused_naming_the_field(client: httpx.AsyncClient, brand: str) -> None:
    blank = await client.post("/api/v1/kb/sections", json={"brand": brand, "name": "  "})
    assert blank.status_code == 422
    assert blank.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in blank.json()["errors"]] == ["body.name"]
    unknown = await client.post("/api/v1/kb/sections", json={"brand": brand, "name": "x", "colour": "red"})
    assert unknown.status_code == 422
    null_name = await client.post("/api/v1/kb/sections", json={"brand": brand, "name": "Ok"})
    cleared = await client.patch(f"/api/v1/kb/sections/{null_name.json()['id']}", json={"name": None})
    assert cleared.status_code == 422
    listed = (await client.get("/api/v1/kb/sections", params={"brand": brand})).json()
    assert [s["name"] for s in listed["items"]] == ["Ok"]


async def test_agents_read_sections_but_do_not_write_them(
    client: httpx.AsyncClient, agent: GatewayIdentity, brand: str
) -> None:
    refused = await client.post("/api/v1/kb/sections", json={"brand": brand, "name": "Mine"}, auth=agent)
    assert refused.status_code == 403
    assert "knowledge:write" in refused.json()["detail"]
    assert (await client.get("/api/v1/kb/sections", params={"brand": brand}, auth=agent)).status_code == 200


async def test_a_section_or_article_naming_a_brand_nobody_has_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, brand: str
) -> None:
    nobody = f"{brand}-nobody"
    for path, body in [
        ("/api/v1/kb/sections", {"brand": nobody, "name": "Orders"}),
        ("/api/v1/kb/articles", {"brand": nobody, "locale": "en", "title": "Hi", "body": "Hello", "status": "draft"}),
    ]:
        refused = await client.post(path, json=body)
        assert refused.status_code == 404, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["type"].endswith("/unknown-reference")
        assert [e["field"] for e in refused.json()["errors"]] == ["body.brand"]
        assert (await client.get(path, params={"brand": nobody})).json()["items"] == []
    # Not a slug at all: the schema's 422, naming the field.
    shaped = await client.post("/api/v1/kb/sections", json={"brand": "Acme Inc.", "name": "Orders"})
    assert shaped.status_code == 422
    assert [e["field"] for e in shaped.json()["errors"]] == ["body.brand"]
    # The default brand (none) needs no brand.
    assert (await client.post("/api/v1/kb/sections", json={"name": "Orders"})).status_code == 201


async def test_without_case_core_a_branded_section_is_refused_for_now_and_nothing_is_written(
    service_settings: SettingsFactory, brand: str
) -> None:
    settings: KnowledgeSettings = service_settings(KnowledgeSettings, case_core_url=f"http://127.0.0.1:{free_port()}")
    async with running(create_app(settings), scopes=frozenset({"knowledge:read", "knowledge:write"})) as alone:
        refused = await alone.post("/api/v1/kb/sections", json={"brand": brand, "name": "Orders"})
        assert refused.status_code == 503
        assert refused.json()["type"].endswith("/service-unavailable")
        assert (await alone.get("/api/v1/kb/sections", params={"brand": brand})).json()["items"] == []
