"""schemathesis against the merged OpenAPI document, through the gateway running on a real port.

The gateway and a stand-in service run in a thread with their own event loop
(schemathesis drives them synchronously over HTTP, as any client would). Every
operation of the merged document is exercised with generated input, as an
admin: no answer may be a 5xx, and every answer must match its documented
status, content type and schema.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import schemathesis
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok

from omnicase.devtools.testing.contract import exercise
from omnicase.devtools.testing.servers import serve_http
from omnicase.gateway.app import create_app
from omnicase.gateway.testing import Gateway, Upstream, gateway_settings, upstream_app

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@dataclass
class Live:
    url: str
    auth: dict[str, str]


class LiveStack(threading.Thread):
    def __init__(self, database_url: str) -> None:
        super().__init__(daemon=True)
        self.database_url = database_url
        self.ready = threading.Event()
        self.live: Live | None = None
        self.error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as error:  # reported to the test thread instead of dying silently
            self.error = error
            self.ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        state = Upstream(url="")
        async with serve_http(upstream_app(state)) as upstream_url:
            state.url = upstream_url
            app = create_app(gateway_settings(self.database_url, state))
            async with serve_http(app) as url, httpx.AsyncClient(base_url=url) as client:
                gateway = Gateway(client, app, app.state.settings)
                _, auth = await gateway.bearer("admin")
                self.live = Live(url, auth)
                self.ready.set()
                await self._stopping.wait()

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self.join(timeout=30)


@pytest.fixture(scope="module")
def live(database_url: str) -> Iterator[Live]:
    stack = LiveStack(database_url)
    stack.start()
    stack.ready.wait(timeout=60)
    if stack.error is not None:
        raise stack.error
    assert stack.live is not None, "the gateway did not start"
    try:
        yield stack.live
    finally:
        stack.stop()


def test_every_operation_of_the_merged_document_answers_as_documented(live: Live) -> None:
    schema = schemathesis.openapi.from_url(f"{live.url}/openapi.json")
    results = list(schema.get_all_operations())
    assert [result for result in results if not isinstance(result, Ok)] == [], "the merged document is invalid"
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) >= 15
    for operation in operations:
        # Revocation is called like a logged-out client would: no bearer token.
        headers = dict(live.auth) if operation.path != "/api/v1/auth/revoke" else {}
        exercise(operation, live.url, headers, checks=CHECKS, examples=6)
