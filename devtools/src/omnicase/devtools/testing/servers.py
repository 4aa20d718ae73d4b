"""Real HTTP servers inside a test: any ASGI app under uvicorn on a free port; a JSON answer for the
small ``http.server`` handlers that play third-party APIs (Slack, a telephony provider)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal

import uvicorn
from starlette.types import ASGIApp

from omnicase.devtools.devstack.processes import free_port


@asynccontextmanager
async def serve_http(app: ASGIApp, *, lifespan: Literal["auto", "on", "off"] = "on") -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1 for the duration of the block; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan=lifespan)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def answer_json(handler: BaseHTTPRequestHandler, status: int, body: Any) -> None:
    """Answer the handler's request with ``body`` as JSON (Content-Type and Content-Length set)."""
    raw = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(raw)))
    handler.end_headers()
    handler.wfile.write(raw)
