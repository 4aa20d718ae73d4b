"""The gateway proxies over real HTTP to the owning service and aggregates readiness."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from omnicase.gateway.app import create_app
from omnicase.gateway.settings import GatewaySettings
from omnicase.kit.devstack.processes import free_port
from omnicase.kit.testing.servers import serve_http

pytestmark = pytest.mark.asyncio


def upstream_app(calls: list[str]) -> FastAPI:
    """Plays case-core: echoes what reached it."""
    app = FastAPI()

    @app.api_route("/api/v1/cases{rest:path}", methods=["GET", "POST"])
    async def echo(request: Request, rest: str) -> Response:
        calls.append(request.method)
        digest = hashlib.sha256()
        size = 0
        async for chunk in request.stream():
            digest.update(chunk)
            size += len(chunk)
        return JSONResponse(
            {
                "path": request.url.path,
                "query": request.url.query,
                "request_id": request.headers.get("x-request-id"),
                "trace_id": request.headers.get("x-trace-id"),
                "size": size,
                "sha256": digest.hexdigest(),
            },
            headers={"ETag": '"v7"'},
        )

    @app.get("/readyz")
    async def ready() -> JSONResponse:
        return JSONResponse({"status": "ready", "service": "case-core", "checks": {"database": "ok"}})

    return app


@pytest_asyncio.fixture
async def gateway(database_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, list[str]]]:
    calls: list[str] = []
    async with serve_http(upstream_app(calls)) as upstream:
        settings = GatewaySettings(
            database_url=database_url,
            service_urls={"case-core": upstream, "routing": f"http://127.0.0.1:{free_port()}"},
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
                yield client, calls


async def test_request_reaches_the_owning_service_with_query_ids_and_headers(
    gateway: tuple[httpx.AsyncClient, list[str]],
) -> None:
    client, _ = gateway
    response = await client.get("/api/v1/cases/42?status=open&limit=5", headers={"X-Request-ID": "abc-1"})
    assert response.status_code == 200
    body = response.json()
    assert body["path"] == "/api/v1/cases/42"
    assert body["query"] == "status=open&limit=5"
    assert body["request_id"] == "abc-1"
    assert body["trace_id"] == response.headers["x-trace-id"]
    assert response.headers["etag"] == '"v7"'


async def test_large_body_streams_through_intact(gateway: tuple[httpx.AsyncClient, list[str]]) -> None:
    client, calls = gateway
    payload = bytes(range(256)) * (20 * 1024 * 1024 // 256)  # 20 MB

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(payload), 1 << 20):
            yield payload[start : start + (1 << 20)]

    response = await client.post("/api/v1/cases/1/messages", content=chunks())
    assert response.json()["size"] == len(payload)
    assert response.json()["sha256"] == hashlib.sha256(payload).hexdigest()
    assert calls == ["POST"]


async def test_unreachable_service_is_503_problem_and_not_retried(
    gateway: tuple[httpx.AsyncClient, list[str]],
) -> None:
    client, _ = gateway
    response = await client.post("/api/v1/agents", json={"name": "x"})
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "The routing service is unreachable; try again shortly."


async def test_path_no_service_owns_is_404_problem(gateway: tuple[httpx.AsyncClient, list[str]]) -> None:
    client, calls = gateway
    response = await client.get("/api/v1/nonsense")
    assert response.status_code == 404
    assert response.json()["type"].endswith("/not-found")
    assert calls == []


async def test_readiness_names_the_service_that_is_not_ready(gateway: tuple[httpx.AsyncClient, list[str]]) -> None:
    client, _ = gateway
    response = await client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["service:case-core"] == "ok"
    assert checks["service:routing"].startswith("failing:")
    assert checks["database"] == "ok"
