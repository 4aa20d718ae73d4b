"""Requests that arrive while one round trip is in flight go together in the next.

For a write every request makes (a shared counter a post bumps): alone, a request waits for
nothing; under load one statement serves many requests, each still getting its own answer.
The batch runs in a task of its own, so a caller that gives up (its timeout, a client gone)
never cancels the others' round trip.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Request = TypeVar("Request")
Answer = TypeVar("Answer")


class CoalescerClosed(Exception):
    """The coalescer was closed while the request waited."""


class Coalescer(Generic[Request, Answer]):
    """``run`` takes the waiting requests (at most ``max_batch``) and answers each, in order."""

    def __init__(
        self, run: Callable[[list[Request]], Awaitable[Sequence[Answer]]], *, name: str, max_batch: int = 500
    ) -> None:
        self._run = run
        self._name = name
        self._max_batch = max_batch
        self._waiting: list[tuple[Request, asyncio.Future[Answer]]] = []
        self._running: asyncio.Task[None] | None = None

    async def submit(self, request: Request) -> Answer:
        answer: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._waiting.append((request, answer))
        if self._running is None:
            self._running = asyncio.create_task(self._run_waiting(), name=self._name)
        return await answer

    async def _run_waiting(self) -> None:
        batch: list[tuple[Request, asyncio.Future[Answer]]] = []
        try:
            while self._waiting:
                batch = self._waiting[: self._max_batch]
                del self._waiting[: self._max_batch]
                try:
                    answers = await self._run([request for request, _ in batch])
                except Exception as error:
                    _fail(batch, error)
                    continue
                for (_, future), answer in zip(batch, answers, strict=True):
                    if not future.done():
                        future.set_result(answer)
        finally:
            # Closed mid-batch: whoever still waits is told, never left waiting.
            _fail(batch + self._waiting, CoalescerClosed(f"{self._name} was closed"))
            self._waiting = []
            self._running = None

    async def close(self) -> None:
        if self._running is not None:
            self._running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._running
        # A task cancelled before it first ran never reached its ``finally``.
        _fail(self._waiting, CoalescerClosed(f"{self._name} was closed"))
        self._waiting = []
        self._running = None


def _fail(waiting: Sequence[tuple[object, asyncio.Future[Answer]]], error: Exception) -> None:
    for _, future in waiting:
        if not future.done():
            future.set_exception(error)
