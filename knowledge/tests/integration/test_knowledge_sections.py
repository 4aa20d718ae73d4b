"""Sections through the API: ordered per brand, changed, deleted; bad input changes nothing."""

from __future__ import annotations

import httpx
import pytest

from omnicase.devtools.testing.apps import GatewayIdentity

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
