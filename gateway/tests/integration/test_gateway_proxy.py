"""The gateway proxies over real HTTP to the owning service and aggregates readiness."""

from __future__ import annotations

import gzip
import hashlib
import random
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from omnicase.devtools.devstack.processes import free_port
from omnicase.devtools.testing.apps import running
from omnicase.devtools.testing.servers import serve_http
from omnicase.gateway.app import create_app
from omnicase.gateway.testing import Gateway, Upstream, gateway_settings

pytestmark = pytest.mark.asyncio


def _gzipped(size: int) -> bytes:
    """``size`` bytes that do not compress (so the body on the wire is as large), gzipped."""
    return gzip.compress(random.Random(size).randbytes(size), mtime=0)


def echo_app(calls: list[str]) -> FastAPI:
    """Plays case-core: echoes what reached it."""
    app = FastAPI()

    @app.api_route("/api/v1/cases/{case_id}/attachments/{size}", methods=["GET", "HEAD"])
    async def download(case_id: str, size: int, request: Request) -> Response:
        """A body of ``size`` bytes, gzipped as it would be on the wire (the gateway must not decode it)."""
        body = _gzipped(size)
        headers = {"Content-Encoding": "gzip", "Content-Length": str(len(body))}
        if request.method == "HEAD":
            return Response(status_code=200, headers=headers, media_type="application/octet-stream")
        return Response(body, headers=headers, media_type="application/octet-stream")

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
                "raw_query": request.scope["query_string"].decode(),
                "content_length": request.headers.get("content-length"),
                "chunked": "chunked" in request.headers.get("transfer-encoding", ""),
                "user_agent": request.headers.get("user-agent"),
                "accept_encoding": request.headers.get("accept-encoding"),
                "origin": request.headers.get("origin"),
            },
            headers={"ETag": '"v7"', "Access-Control-Allow-Origin": request.headers.get("origin", "*")},
        )

    @app.get("/readyz")
    async def ready() -> JSONResponse:
        return JSONResponse({"status": "ready", "service": "case-core", "checks": {"database": "ok"}})

    return app


@pytest_asyncio.fixture
async def echo(database_url: str) -> AsyncIterator[tuple[Gateway, dict[str, str], list[str]]]:
    calls: list[str] = []
    async with serve_http(echo_app(calls)) as url:
        settings = gateway_settings(
            database_url,
            Upstream(url=url),
            service_urls={"case-core": url, "routing": f"http://127.0.0.1:{free_port()}"},
        )
        app = create_app(settings)
        async with running(app) as client:
            gateway = Gateway(client, app, settings)
            _, auth = await gateway.bearer("admin")
            yield gateway, auth, calls


async def test_request_reaches_the_owning_service_with_query_ids_and_headers(
    echo: tuple[Gateway, dict[str, str], list[str]],
) -> None:
    gateway, auth, _ = echo
    response = await gateway.client.get(
        "/api/v1/cases/42?status=open&limit=5", headers={**auth, "X-Request-ID": "abc-1"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["path"] == "/api/v1/cases/42"
    assert body["query"] == "status=open&limit=5"
    assert body["request_id"] == "abc-1"
    assert body["trace_id"] == response.headers["x-trace-id"]
    assert response.headers["etag"] == '"v7"'


async def test_small_bodies_go_with_their_length_and_only_what_the_client_sent_goes_along(
    echo: tuple[Gateway, dict[str, str], list[str]],
) -> None:
    gateway, auth, _ = echo
    posted = await gateway.client.post(
        "/api/v1/cases/1/messages?b=%2Fx&a=1&a=2", content=b"x" * 1000,
        headers={**auth, "User-Agent": "console/1.0", "Accept-Encoding": "identity"},
    )  # fmt: skip
    body = posted.json()
    assert body["raw_query"] == "b=%2Fx&a=1&a=2"  # as the client encoded it, repeats and order kept
    assert (body["size"], body["content_length"], body["chunked"]) == (1000, "1000", False)
    # The gateway's own HTTP client adds nothing (no user agent or compression the caller did not ask for).
    assert (body["user_agent"], body["accept_encoding"]) == ("console/1.0", "identity")
    fetched = (await gateway.client.get("/api/v1/cases/1", headers=auth)).json()
    assert (fetched["size"], fetched["content_length"], fetched["chunked"]) == (0, None, False)


async def test_a_header_value_beyond_ascii_passes_as_the_bytes_sent(
    echo: tuple[Gateway, dict[str, str], list[str]],
) -> None:
    gateway, auth, _ = echo
    sent = "https://bücher.example".encode()  # HTTP takes such octets as opaque; it was a 500 (issue 18)
    headers = {name.encode(): value.encode() for name, value in auth.items()} | {b"Origin": sent}
    response = await gateway.client.get("/api/v1/cases/1", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["origin"].encode("latin-1") == sent
    # And back: the service's answer echoing it is passed on as its bytes (it was a 500).
    assert {name.lower(): value for name, value in response.headers.raw}[b"access-control-allow-origin"] == sent


async def test_a_header_value_ending_in_whitespace_passes_without_it(
    echo: tuple[Gateway, dict[str, str], list[str]],
) -> None:
    # Whitespace around a value is no part of it (RFC 9110 5.5); passed on, the upstream client refused it (a 503).
    gateway, auth, _ = echo
    headers = {name.encode(): value.encode() for name, value in auth.items()} | {b"Origin": b"https://a.example \t"}
    response = await gateway.client.get("/api/v1/cases/1", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["origin"] == "https://a.example"


async def test_large_body_streams_through_intact(echo: tuple[Gateway, dict[str, str], list[str]]) -> None:
    gateway, auth, calls = echo
    payload = bytes(range(256)) * (20 * 1024 * 1024 // 256)  # 20 MB

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(payload), 1 << 20):
            yield payload[start : start + (1 << 20)]

    response = await gateway.client.post("/api/v1/cases/1/messages", content=chunks(), headers=auth)
    assert response.json()["size"] == len(payload)
    assert response.json()["sha256"] == hashlib.sha256(payload).hexdigest()
    assert calls == ["POST"]


@pytest.mark.parametrize("size", [1024, 1024 * 1024], ids=["small, read whole", "large, streamed"])
async def test_a_response_passes_as_the_service_sent_it(
    echo: tuple[Gateway, dict[str, str], list[str]], size: int
) -> None:
    gateway, auth, _ = echo
    sent = _gzipped(size)
    async with gateway.client.stream("GET", f"/api/v1/cases/1/attachments/{size}", headers=auth) as response:
        received = b"".join([chunk async for chunk in response.aiter_raw()])
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert received == sent
    assert response.headers.get("content-length") == (str(len(sent)) if size <= 64 * 1024 else None)
    head = await gateway.client.head(f"/api/v1/cases/1/attachments/{size}", headers=auth)
    assert head.status_code == 200
    assert head.headers.get("content-length") == (str(len(sent)) if size <= 64 * 1024 else None)


async def test_unreachable_service_is_503_problem_and_not_retried(
    echo: tuple[Gateway, dict[str, str], list[str]],
) -> None:
    gateway, auth, _ = echo
    response = await gateway.client.post("/api/v1/agents", json={"name": "x"}, headers=auth)
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "The routing service is unreachable; try again shortly."


async def test_path_no_service_owns_is_404_problem(echo: tuple[Gateway, dict[str, str], list[str]]) -> None:
    gateway, auth, calls = echo
    response = await gateway.client.get("/api/v1/nonsense", headers=auth)
    assert response.status_code == 404
    assert response.json()["type"].endswith("/not-found")
    assert calls == []


async def test_readiness_names_the_service_that_is_not_ready(echo: tuple[Gateway, dict[str, str], list[str]]) -> None:
    gateway, _, _ = echo
    response = await gateway.client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["service:case-core"] == "ok"
    assert checks["service:routing"].startswith("failing:")
    assert checks["database"] == "ok"


async def test_health_needs_no_token(echo: tuple[Gateway, dict[str, str], list[str]]) -> None:
    gateway, _, _ = echo
    assert (await gateway.client.get("/healthz")).status_code == 200
    assert (await gateway.client.get("/metrics")).status_code == 200


async def test_metrics_say_which_service_answered_and_what_was_refused(
    echo: tuple[Gateway, dict[str, str], list[str]],
) -> None:
    gateway, auth, _ = echo
    await gateway.client.get("/api/v1/cases/1", headers=auth)
    await gateway.client.post("/api/v1/agents", json={}, headers=auth)
    await gateway.client.get("/api/v1/cases")
    metrics = (await gateway.client.get("/metrics")).text
    assert 'omnicase_gateway_upstream_requests_total{method="GET",status="200",upstream="case-core"}' in metrics
    assert 'omnicase_gateway_upstream_requests_total{method="POST",status="unreachable",upstream="routing"}' in metrics
    assert 'omnicase_gateway_refused_total{reason="unauthenticated"}' in metrics
    assert 'omnicase_gateway_logins_total{grant="password",outcome="issued"}' in metrics
