"""A service keeps an idle connection open longer than the clients that reuse it keep it.

The gateway proxies over pooled connections that httpx keeps 5 s; a service that closed them at
5 s too closed some as the gateway sent on them, and the request was lost (a 503).
"""

from __future__ import annotations

import asyncio
import socket

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from omnicase.cli import server_config

pytestmark = pytest.mark.asyncio

HTTPX_KEEP_ALIVE_SECONDS = 5.0


async def _hello(_: Request) -> PlainTextResponse:
    return PlainTextResponse("hello")


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    writer.write(b"GET / HTTP/1.1\r\nHost: service\r\n\r\n")
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
    lines = head.split(b"\r\n")
    length = next(int(line.split(b":")[1]) for line in lines if line.lower().startswith(b"content-length"))
    return lines[0] + b" " + await reader.readexactly(length)


async def test_a_connection_idle_longer_than_httpx_keeps_one_still_takes_a_request() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(server_config(Starlette(routes=[Route("/", _hello)])))
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        # The socket already listens: the request waits for the server to take it.
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await _get(reader, writer) == b"HTTP/1.1 200 OK hello"
        await asyncio.sleep(HTTPX_KEEP_ALIVE_SECONDS + 1)
        assert await _get(reader, writer) == b"HTTP/1.1 200 OK hello", "the same connection, still open"
        writer.close()
    finally:
        server.should_exit = True
        await serving
