"""A real browser: the generated snippet pasted into a static page, filled in and submitted.

Headless Chromium (Debian's ``chromium`` package) driven by Playwright; intake-web
runs as a real HTTP server on another origin than the page, as in production.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, FilePayload, Page, async_playwright
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from omnicase.devtools.testing.servers import serve_http

pytestmark = pytest.mark.asyncio

CHROMIUM = shutil.which("chromium")

FORM = {
    "name": "Support request",
    "title": {"en": "Contact support"},
    "fields": [
        {"key": "name", "required": True, "labels": {"en": "Your name"}},
        {"key": "email", "required": True, "labels": {"en": "Email"}},
        {"key": "subject", "required": True, "labels": {"en": "Subject"}},
        {"key": "description", "required": True, "labels": {"en": "How can we help?"}},
        {"key": "order_number", "kind": "custom", "type": "text", "labels": {"en": "Order number"}},
        {"key": "attachments", "labels": {"en": "Files"}},
    ],
    "defaults": {"priority": "high", "tags": ["web"]},
    "spam": {"min_fill_seconds": 1},
}


class Site:
    """The customer's own static website: a page with the pasted snippet and a thank-you page."""

    def __init__(self) -> None:
        self.snippets: dict[str, str] = {}

    async def page(self, request: Request) -> HTMLResponse:
        snippet = self.snippets[request.path_params["name"]]
        return HTMLResponse(f"<!doctype html><html lang='en'><title>Acme</title><body><h1>Acme</h1>{snippet}</body>")

    async def thanks(self, request: Request) -> HTMLResponse:
        return HTMLResponse("<!doctype html><title>Thanks</title><h1>Thank you, we got it</h1>")

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/thanks", self.thanks), Route("/pages/{name}", self.page)])


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Browser]:
    if CHROMIUM is None:
        pytest.fail("Debian's chromium package is missing: `make system-packages` installs it")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        await browser.close()


@pytest_asyncio.fixture
async def site() -> AsyncIterator[tuple[str, Site]]:
    site = Site()
    async with serve_http(site.app()) as url:
        yield url, site


async def _publish(served: Any, site_url: str, site: Site, name: str, *, script: bool) -> tuple[dict[str, Any], str]:
    """Create the form, take its snippet and paste it into a page of the site, like a web developer."""
    body = {**FORM, "thank_you_url": f"{site_url}/thanks", "allowed_origins": [site_url]}
    created = await served.client.post("/api/v1/forms", json=body)
    assert created.status_code == 201, created.text
    form: dict[str, Any] = created.json()
    snippet = await served.client.get(f"/api/v1/forms/{form['id']}/snippet", params={"script": str(script).lower()})
    assert snippet.status_code == 200
    site.snippets[name] = snippet.text
    return form, f"oc-{form['id'].replace('-', '')[:12]}"


async def _fill(page: Page, base: str, **overrides: str) -> None:
    values = {
        "name": "Jane Doe",
        "email": "jane@example.com",
        "subject": "Invoice is wrong",
        "description": "I was charged twice for order 1234.",
        "order_number": "A-1234",
        **overrides,
    }
    for key, value in values.items():
        await page.get_by_label(_LABELS[key], exact=False).fill(value)


_LABELS = {
    "name": "Your name",
    "email": "Email",
    "subject": "Subject",
    "description": "How can we help?",
    "order_number": "Order number",
}


async def test_a_visitor_submits_the_pasted_form_and_lands_on_the_thank_you_page(
    served_service: Any, site: tuple[str, Site], browser: Browser
) -> None:
    site_url, pages = site
    form, base = await _publish(served_service, site_url, pages, "contact", script=True)
    page = await browser.new_page()
    await page.goto(f"{site_url}/pages/contact")
    await _fill(page, base)
    receipt: FilePayload = {"name": "receipt.txt", "mimeType": "text/plain", "buffer": b"charged twice: 2 x 49.00"}
    await page.set_input_files(f"#{base}-attachments", files=[receipt])
    await page.wait_for_timeout(1200)  # the form's minimum fill time
    await page.get_by_role("button", name="Send").dblclick()  # an impatient visitor
    await page.wait_for_url(f"{site_url}/thanks")
    assert await page.inner_text("h1") == "Thank you, we got it"

    listed = (await served_service.client.get(f"/api/v1/forms/{form['id']}/submissions")).json()["items"]
    [submission] = listed
    assert submission["fields"] == {
        "name": "Jane Doe",
        "email": "jane@example.com",
        "subject": "Invoice is wrong",
        "description": "I was charged twice for order 1234.",
        "order_number": "A-1234",
    }
    [attachment] = submission["attachments"]
    assert attachment["filename"] == "receipt.txt"
    download = await served_service.client.get(
        f"/api/v1/forms/{form['id']}/submissions/{submission['id']}/attachments/{attachment['sha256']}"
    )
    assert download.content == b"charged twice: 2 x 49.00"


async def test_field_errors_show_next_to_their_field_with_and_without_the_script(
    served_service: Any, site: tuple[str, Site], browser: Browser
) -> None:
    site_url, pages = site
    form, base = await _publish(served_service, site_url, pages, "enhanced", script=True)
    page = await browser.new_page()
    await page.goto(f"{site_url}/pages/enhanced")
    await _fill(page, base, name="")
    await page.get_by_role("button", name="Send").click()
    # The script checks before anything is sent: the message is under the field, the page stays.
    await page.wait_for_function(f"document.getElementById('{base}-name-error').textContent.length > 0")
    assert await page.inner_text(f"#{base}-name-error") == "This field is required."
    assert await page.get_attribute(f"#{base}-name", "aria-invalid") == "true"
    assert page.url == f"{site_url}/pages/enhanced"

    plain_form, plain_base = await _publish(served_service, site_url, pages, "plain", script=False)
    page = await browser.new_page()
    await page.goto(f"{site_url}/pages/plain")
    # The browser's own check lets this address through; the server does not.
    await _fill(page, plain_base, email="jane@localhost")
    await page.wait_for_timeout(1200)
    await page.get_by_role("button", name="Send").click()
    await page.wait_for_selector(f"#{plain_base}-email-error:has-text('Enter an email address')")
    error_id = f"{plain_base}-email-error"
    described_by = await page.get_attribute(f"#{plain_base}-email", "aria-describedby") or ""
    assert error_id in described_by.split()
    assert await page.input_value(f"#{plain_base}-name") == "Jane Doe"  # what was typed is kept
    assert await page.get_by_role("alert").count() == 1
    assert await page.evaluate("document.activeElement.id") == f"{plain_base}-summary"
    for form_id in (form["id"], plain_form["id"]):
        listed = (await served_service.client.get(f"/api/v1/forms/{form_id}/submissions")).json()["items"]
        assert listed == []
