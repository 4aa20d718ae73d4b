"""Real HTTP servers inside a test: any ASGI app under uvicorn on a free port; a JSON answer for the
small ``http.server`` handlers that play third-party APIs (Slack, a telephony provider)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
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


@contextmanager
def served_in_thread(
    app: ASGIApp, *, before: Callable[[], Awaitable[None]] | None = None, timeout_seconds: float = 120.0
) -> Iterator[str]:
    """Serve ``app`` (lifespan included) on a free port from a thread and event loop of its own, for
    the duration of the block; yields its base URL. For a service many tests call but none drives
    (a session's case-core answering its brands): it outlives any one test's event loop. ``before``
    runs first on that loop (the service's topics, say)."""
    started = threading.Event()
    urls: list[str] = []
    failures: list[BaseException] = []
    stopping: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    async def serve() -> None:
        stop = asyncio.Event()
        stopping.append((asyncio.get_running_loop(), stop))
        if before is not None:
            await before()
        async with serve_http(app) as url:
            urls.append(url)
            started.set()
            await stop.wait()

    def run() -> None:
        try:
            asyncio.run(serve())
        except BaseException as error:  # reported to the test that waits for the start
            failures.append(error)
        finally:
            started.set()

    thread = threading.Thread(target=run, name="served-in-thread", daemon=True)
    thread.start()
    started.wait(timeout_seconds)
    if failures or not urls:
        raise RuntimeError("the app did not start") from (failures[0] if failures else None)
    try:
        yield urls[0]
    finally:
        loop, stop = stopping[0]
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout_seconds)
