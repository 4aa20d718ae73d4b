"""A client of the live stream, as a console would read it: for the tests, the bench and scripts.

It parses the ``text/event-stream`` wire format (WHATWG HTML § 9.2) line by line; comment
lines (heartbeats) are counted, not returned.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class ReceivedEvent:
    id: str | None
    event: str
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


class EventParser:
    """Lines in, events out: one ``feed`` per line (without its line break)."""

    def __init__(self) -> None:
        self.comments = 0
        self.retry_ms: int | None = None
        self._id: str | None = None
        self._name = "message"
        self._data: list[str] = []

    def feed(self, line: str) -> ReceivedEvent | None:
        if not line:
            event = ReceivedEvent(self._id, self._name, "\n".join(self._data)) if self._data else None
            self._id, self._name, self._data = None, "message", []
            return event
        if line.startswith(":"):
            self.comments += 1
            return None
        key, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if key == "id":
            self._id = value
        elif key == "event":
            self._name = value
        elif key == "data":
            self._data.append(value)
        elif key == "retry" and value.isdigit():
            self.retry_ms = int(value)
        return None


class StreamReader:
    """Reads the stream in a task of its own, so waiting for an event with a timeout loses nothing."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.parser = EventParser()
        self._events: asyncio.Queue[ReceivedEvent | None] = asyncio.Queue()
        self._task = asyncio.create_task(self._read())

    async def next(self, within: float = 10.0) -> ReceivedEvent:
        """The next event; TimeoutError if none arrives in time, EOFError if the stream ended."""
        async with asyncio.timeout(within):
            event = await self._events.get()
        if event is None:
            self._events.put_nowait(None)
            raise EOFError("the stream ended")
        return event

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _read(self) -> None:
        try:
            async for line in self.response.aiter_lines():
                if (event := self.parser.feed(line)) is not None:
                    self._events.put_nowait(event)
        except httpx.HTTPError:
            pass
        finally:
            self._events.put_nowait(None)


@asynccontextmanager
async def open_stream(
    client: httpx.AsyncClient, url: str, *, headers: dict[str, str] | None = None, params: dict[str, str] | None = None
) -> AsyncIterator[StreamReader]:
    """``GET`` the stream; the response must be 200 (anything else raises with its body)."""
    request_headers = {"Accept": "text/event-stream", **(headers or {})}
    async with client.stream(
        "GET", url, headers=request_headers, params=params, timeout=httpx.Timeout(30.0)
    ) as response:
        if response.status_code != 200:
            await response.aread()
            raise AssertionError(f"stream answered {response.status_code}: {response.text}")
        reader = StreamReader(response)
        try:
            yield reader
        finally:
            await reader.close()
