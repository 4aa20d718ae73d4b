"""WebSocket proxy for the public paths (the chat widget's live conversation, ``/public/messaging/...``).

A browser's WebSocket is opened to the owning service's same path (``ws://`` to its base URL)
with what the proxy forwards for HTTP (the origin, the client's address chain, the request id,
never a client's own ``X-Omnicase-*`` header), and frames are relayed both ways until either
side closes; the other is then closed with the same code and reason, so a service's refusal
(its 4xxx code) reaches the browser as it was sent. Only ``/public/...`` paths: the intake
services check their own tokens there, and nothing signed in is offered over a socket (the
consoles' live stream is server-sent events), so a socket to any other path is refused at the
handshake (403). A public path no service owns is closed with 4404; an owner that cannot be
reached with 1013 (try again later), after the handshake, so the browser can tell it from a
proxy that blocks WebSockets (which never opens).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import websockets
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from websockets.asyncio.client import ClientConnection, connect

from omnicase.gateway.access.clientip import is_trusted, parse_networks
from omnicase.gateway.metrics import UPSTREAM_REQUESTS
from omnicase.gateway.routes import owner_of
from omnicase.gateway.state import GatewayRuntime
from omnicase.kit.context import REQUEST_ID_HEADER

logger = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

# Closes of the proxy's own: no such socket here; the owner is away (RFC 6455 §7.4.1's "try again later").
NO_SUCH_SOCKET, TRY_AGAIN_LATER = 4404, 1013
# A browser's frame to a service is small (a typing signal, a read receipt): anything larger is refused by the
# upstream connection's size limit rather than relayed.
MAX_FRAME_BYTES = 64 * 1024


def _upstream_headers(websocket: WebSocket, runtime: GatewayRuntime) -> list[tuple[str, str]]:
    headers = [(REQUEST_ID_HEADER, websocket.headers.get(REQUEST_ID_HEADER.lower(), ""))]
    client = websocket.client
    if client is not None:
        forwarded = websocket.headers.get("x-forwarded-for")
        if forwarded and is_trusted(client.host, parse_networks(runtime.settings.trusted_proxies)):
            headers.append(("X-Forwarded-For", f"{forwarded}, {client.host}"))
        else:
            headers.append(("X-Forwarded-For", client.host))
    headers.append(("X-Forwarded-Proto", "https" if websocket.url.scheme == "wss" else "http"))
    return headers


@router.websocket("/public/{path:path}")
async def proxy_socket(websocket: WebSocket, path: str) -> None:
    target = websocket.url.path
    service = owner_of(target)
    runtime: GatewayRuntime = websocket.app.state.runtime
    base_url = runtime.state.service_urls.get(service) if service is not None else None
    await websocket.accept()
    if base_url is None or any(segment in (".", "..") for segment in target.split("/")):
        await websocket.close(NO_SUCH_SOCKET, "no socket here")
        return
    assert service is not None
    raw_path = (websocket.scope.get("raw_path") or target.encode()).decode("ascii", "replace")
    query = websocket.scope.get("query_string", b"").decode("ascii", "replace")
    url = "ws" + base_url.rstrip("/").removeprefix("http") + raw_path + (f"?{query}" if query else "")
    origin = websocket.headers.get("origin")
    try:
        upstream = await connect(
            url,
            origin=websockets.Origin(origin) if origin else None,
            additional_headers=_upstream_headers(websocket, runtime),
            user_agent_header=websocket.headers.get("user-agent"),
            compression=None,
            proxy=None,
            open_timeout=runtime.settings.upstream_connect_timeout,
            max_size=(MAX_FRAME_BYTES, None),
        )
    except (OSError, TimeoutError, websockets.InvalidHandshake) as error:
        UPSTREAM_REQUESTS.labels(service, "WEBSOCKET", "unreachable").inc()
        logger.warning("upstream socket unreachable", extra={"upstream": service, "error": repr(error)})
        await websocket.close(TRY_AGAIN_LATER, f"{service} is unreachable")
        return
    UPSTREAM_REQUESTS.labels(service, "WEBSOCKET", "101").inc()
    async with upstream:
        await _relay(websocket, upstream)


async def _relay(websocket: WebSocket, upstream: ClientConnection) -> None:
    """Frames both ways until one side closes; then the other side gets its code and reason."""

    async def downstream() -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for frame in upstream:
                if isinstance(frame, str):
                    await websocket.send_text(frame)
                else:
                    await websocket.send_bytes(frame)

    async def upward() -> None:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                await upstream.close(message.get("code", 1000), message.get("reason") or "")
                return
            if message.get("text") is not None:
                await upstream.send(message["text"])
            elif message.get("bytes") is not None:
                await upstream.send(message["bytes"])

    to_client, to_upstream = asyncio.create_task(downstream()), asyncio.create_task(upward())
    try:
        done, _ = await asyncio.wait((to_client, to_upstream), return_when=asyncio.FIRST_COMPLETED)
        if to_client in done:
            code = upstream.close_code or 1000
            # 1005/1006 say "no code given"/"dropped": not codes one may send; the browser sees the service gone.
            if code in (1005, 1006):
                code = TRY_AGAIN_LATER
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await websocket.close(code, upstream.close_reason or "")
    finally:
        for task in (to_client, to_upstream):
            task.cancel()
        with contextlib.suppress(
            asyncio.CancelledError, RuntimeError, WebSocketDisconnect, websockets.ConnectionClosed
        ):
            await asyncio.gather(to_client, to_upstream)
