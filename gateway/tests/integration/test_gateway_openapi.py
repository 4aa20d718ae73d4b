"""The merged OpenAPI document and the docs page, served by the running gateway; CORS."""

from __future__ import annotations

from typing import Any

import pytest

from omnicase.gateway.testing import Gateway, Upstream

pytestmark = pytest.mark.asyncio


async def test_the_document_joins_the_gateway_and_the_services(gateway: Gateway) -> None:
    response = await gateway.client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    assert document["info"]["title"] == "Omnicase API"
    assert {"/api/v1/auth/token", "/api/v1/users", "/api/v1/cases", "/api/v1/agents"} <= set(document["paths"])
    operation_ids = [operation["operationId"] for item in document["paths"].values() for operation in item.values()]
    assert len(operation_ids) == len(set(operation_ids))
    assert "x-omnicase-missing-services" not in document
    assert {"auth", "users", "cases"} <= {tag["name"] for tag in document["tags"]}


async def test_a_service_that_is_down_is_named_in_the_document(gateway_with: Any, upstream: Upstream) -> None:
    async with gateway_with(
        service_urls={"case-core": upstream.url, "routing": "http://127.0.0.1:9"}, openapi_fetch_timeout=1
    ) as gw:
        document = (await gw.client.get("/openapi.json")).json()
        assert document["x-omnicase-missing-services"] == ["routing"]
        assert "/api/v1/cases" in document["paths"]


async def test_docs_page_renders_the_merged_document(gateway: Gateway) -> None:
    response = await gateway.client.get("/docs")
    assert response.status_code == 200
    assert "/openapi.json" in response.text


async def test_cors_admits_configured_origins_only(gateway_with: Any, upstream: Upstream) -> None:
    async with gateway_with(cors_origins=["https://console.example.com"]) as gw:
        preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
        allowed = await gw.client.options(
            "/api/v1/cases", headers={"Origin": "https://console.example.com", **preflight}
        )
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://console.example.com"
        refused = await gw.client.options("/api/v1/cases", headers={"Origin": "https://evil.example", **preflight})
        assert "access-control-allow-origin" not in refused.headers
        # A refusal still carries CORS headers, so the console can read why.
        unauthorized = await gw.client.get("/api/v1/cases", headers={"Origin": "https://console.example.com"})
        assert unauthorized.status_code == 401
        assert unauthorized.headers["access-control-allow-origin"] == "https://console.example.com"
