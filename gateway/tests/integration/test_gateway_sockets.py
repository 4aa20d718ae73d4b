"""The gateway relays the public WebSockets (the chat widget's live conversation) to their service."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from fastapi import FastAPI, WebSocket
from websockets import ConnectionClosed, InvalidStatus, Origin
from websockets.asyncio.client import connect

from omnicase.devtools.devstack.processes import free_port
from omnicase.devtools.testing.servers import serve_http
from omnicase.gateway.app import create_app
from omnicase.gateway.testing import Upstream, gateway_settings

pytestmark = pytest.mark.asyncio


def socket_app() -> FastAPI:
    """Plays intake-web's widget socket: says what reached it, echoes frames, refuses a bad token with 4401."""
    app = FastAPI()

    @app.websocket("/public/messaging/{channel}/socket")
    async def socket(websocket: WebSocket, channel: str, token: str = "") -> None:
        await websocket.accept()
        if token != "good":
            await websocket.close(4401, "widget-token-invalid")
            return
        headers = websocket.headers
        await websocket.send_text(
            json.dumps(
                {
                    "path": websocket.url.path,
                    "query": websocket.url.query,
                    "origin": headers.get("origin"),
                    "forwarded_for": headers.get("x-forwarded-for"),
                    "request_id": headers.get("x-request-id"),
                    "omnicase": sorted(k for k in headers if k.startswith("x-omnicase-")),
                }
            )
        )
        while (text := await websocket.receive_text()) != "bye":
            await websocket.send_text(f"echo {text}")
        await websocket.close(4000, "resume")

    return app


@pytest_asyncio.fixture
async def gateway_ws(database_url: str) -> AsyncIterator[str]:
    async with serve_http(socket_app()) as upstream_url:
        settings = gateway_settings(
            database_url,
            Upstream(url=upstream_url),
            service_urls={
                "intake-web": upstream_url,
                "case-core": upstream_url,
                "collaboration": f"http://127.0.0.1:{free_port()}",
            },
        )
        async with serve_http(create_app(settings)) as url:
            yield url.replace("http://", "ws://", 1)


async def test_a_public_socket_reaches_its_service_and_frames_and_closes_pass_both_ways(gateway_ws: str) -> None:
    url = f"{gateway_ws}/public/messaging/c1/socket?token=good&after=3"
    headers = {"X-Request-ID": "req-7", "X-Omnicase-Identity": "forged"}
    async with connect(url, origin=Origin("https://shop.example"), additional_headers=headers) as socket:
        seen = json.loads(await socket.recv())
        assert seen["path"] == "/public/messaging/c1/socket"
        assert seen["query"] == "token=good&after=3"
        assert seen["origin"] == "https://shop.example"
        assert seen["forwarded_for"] == "127.0.0.1"
        assert seen["request_id"] == "req-7"
        assert seen["omnicase"] == []  # a client's own X-Omnicase-* never passes
        await socket.send("typing")
        assert await socket.recv() == "echo typing"
        await socket.send("bye")
        with pytest.raises(ConnectionClosed):
            await socket.recv()
        assert (socket.close_code, socket.close_reason) == (4000, "resume")


async def test_a_service_refusal_reaches_the_browser_with_its_code_and_reason(gateway_ws: str) -> None:
    async with connect(f"{gateway_ws}/public/messaging/c1/socket?token=bad") as socket:
        with pytest.raises(ConnectionClosed):
            await socket.recv()
        assert (socket.close_code, socket.close_reason) == (4401, "widget-token-invalid")


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/public/nobody/socket", 4404),  # no service owns it
        ("/public/slack/socket", 1013),  # its service does not answer
    ],
)
async def test_sockets_nobody_serves_are_closed_saying_so(gateway_ws: str, path: str, code: int) -> None:
    async with connect(f"{gateway_ws}{path}") as socket:
        with pytest.raises(ConnectionClosed):
            await socket.recv()
        assert socket.close_code == code


async def test_a_signed_in_path_has_no_socket(gateway_ws: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{gateway_ws}/api/v1/cases/socket"):
            pass
    assert refused.value.response.status_code == 403
