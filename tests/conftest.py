"""Fixtures of the end-to-end tests: one whole suite per module, reached only through the gateway.

The stack is ``omnicase up`` as ``make run`` starts it (separate processes, embedded
PostgreSQL and broker), on free ports with its own data directory. Tests talk to it as a
frontend does: OAuth2 password login, then the public REST API with a bearer token.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from playwright.sync_api import Page

from omnicase.devtools.testing.frontend import MailSink
from omnicase.devtools.testing.stack import SuiteStack


@pytest.fixture(scope="module")
def stack_env() -> dict[str, str]:
    """Settings a module adds to its stack's environment (a module overrides this fixture)."""
    return {}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, stack_env: dict[str, str]) -> Iterator[SuiteStack]:
    # A message the broker lost is published again after seconds rather than the default five minutes.
    republish = {"INTAKE_WEB_REPUBLISH_AFTER_SECONDS": "5", "INTAKE_WEB_REPUBLISH_INTERVAL_SECONDS": "1"}
    suite = SuiteStack(tmp_path_factory.mktemp("suite"), env={**republish, **stack_env})
    suite.start()
    try:
        suite.wait_ready(timeout=240)
        suite.wait_for_line("Omnicase is up.", timeout=60)
        yield suite
    finally:
        suite.close()


@pytest.fixture(scope="module")
def admin_login(stack: SuiteStack) -> tuple[str, str]:
    """Email and password of the first admin ``omnicase up`` generated and printed, as an operator reads them."""
    printed = re.search(r"Admin login    (\S+) / (\S+)", stack.output())
    assert printed is not None, stack.log_tail()
    return printed.group(1), printed.group(2)


@pytest.fixture(scope="module")
def mail_sink() -> Iterator[MailSink]:
    """The mail server the suite relays outbound mail through: it keeps every message."""
    sink = MailSink().start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture(scope="session")
def chromium() -> str:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium package is missing: `make system-packages` installs it")
    return executable


AXE = Path(__file__).parent / "a11y" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def axe() -> Callable[[Page], list[dict[str, Any]]]:
    """Scan a page with axe-core (tests/a11y, pinned by its lock file): its serious and critical violations."""
    if not AXE.is_file():
        pytest.fail("axe-core is missing: `make a11y-install` installs it")
    source = AXE.read_text(encoding="utf-8")

    def scan(page: Page) -> list[dict[str, Any]]:
        # Injected as a script tag, so it runs on pages that need no JavaScript of their own.
        page.add_script_tag(content=source)
        results: dict[str, Any] = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        return [
            {"id": found["id"], "impact": found["impact"], "nodes": [node["html"] for node in found["nodes"]]}
            for found in results["violations"]
            if found["impact"] in ("serious", "critical")
        ]

    return scan


THANKS_PAGE = "<!doctype html><title>Thanks</title><h1>Thank you, we got it</h1>"


class _CustomerSite(BaseHTTPRequestHandler):
    # Path -> HTML a test put on the site (``customer_site_pages``); any other path is the thank-you page.
    pages: ClassVar[dict[str, str]] = {}

    def do_GET(self) -> None:
        body = self.pages.get(self.path.split("?", 1)[0], THANKS_PAGE).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep pytest's output to the test's own


@pytest.fixture(scope="module")
def customer_site_pages() -> dict[str, str]:
    """Pages of the customer's website by path (a test pastes a snippet into one); empty to start with."""
    return {}


@pytest.fixture(scope="module")
def customer_site(customer_site_pages: dict[str, str]) -> Iterator[str]:
    """The customer's own website: the pages a test put there, and the thank-you page forms send visitors to."""
    handler = type("CustomerSite", (_CustomerSite,), {"pages": customer_site_pages})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
