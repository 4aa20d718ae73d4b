"""The dashboard in a real browser (Debian's Chromium through Playwright): an agent signs in at
/reports through the real gateway, sees the key numbers and the server-drawn charts of a period
the test seeded, changes a filter, and the page is photographed."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Browser, async_playwright
from sqlalchemy import text

from omnicase.devtools.testing.servers import serve_http
from omnicase.gateway.app import create_app as create_gateway
from omnicase.gateway.testing import Gateway, Upstream, gateway_settings
from omnicase.kit.db import create_engine
from omnicase.reporting.app import create_app
from omnicase.reporting.settings import ReportingSettings

pytestmark = pytest.mark.asyncio

CHROMIUM = shutil.which("chromium")

# Five cases of a week nobody else reports on: three email, two web; two solved.
_SEED = text(
    """
    WITH seeded AS (
    INSERT INTO reporting.cases (case_id, number, version, status, channel, brand, priority, created_at,
                                 first_reply_at, solved_at, public_replies, first_reply_seconds, resolution_seconds)
    SELECT gen_random_uuid(), n, 1, CASE WHEN n <= 2 THEN 'solved' ELSE 'open' END,
           CASE WHEN n <= 3 THEN 'email' ELSE 'web' END, :brand, 'normal',
           TIMESTAMPTZ '2025-06-02 09:00:00+00' + (n - 1) * INTERVAL '1 day',
           TIMESTAMPTZ '2025-06-02 10:00:00+00' + (n - 1) * INTERVAL '1 day',
           CASE WHEN n <= 2 THEN TIMESTAMPTZ '2025-06-02 12:00:00+00' + (n - 1) * INTERVAL '1 day' END,
           1, 3600, CASE WHEN n <= 2 THEN 10800 END
    FROM generate_series(1, 5) AS n
    RETURNING case_id, created_at, solved_at, channel, brand, priority
    ), changes AS (
    INSERT INTO reporting.status_changes (case_id, version, kind, at, channel, brand, priority)
    SELECT case_id, 1, 'solved', solved_at, channel, brand, priority FROM seeded WHERE solved_at IS NOT NULL
    )
    INSERT INTO reporting.open_spans (case_id, opened_at, span, channel, brand, priority)
    SELECT case_id, created_at, tstzrange(created_at, solved_at), channel, brand, priority FROM seeded
    """
)


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Browser]:
    if CHROMIUM is None:
        pytest.fail("Debian's chromium package is missing: `make system-packages` installs it")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        await browser.close()


async def test_an_agent_signs_in_and_sees_the_numbers_and_charts(
    settings: ReportingSettings, database_url: str, browser: Browser, tmp_path: Path
) -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("DELETE FROM reporting.open_spans WHERE opened_at >= '2025-06-01' AND opened_at < '2025-06-10'")
            )
            await connection.execute(
                text("DELETE FROM reporting.cases WHERE created_at >= '2025-06-01' AND created_at < '2025-06-10'")
            )
            await connection.execute(_SEED, {"brand": f"brand-{uuid.uuid4().hex[:8]}"})
    finally:
        await engine.dispose()
    async with serve_http(create_app(settings)) as reporting_url:
        gateway_app = create_gateway(
            gateway_settings(database_url, Upstream(reporting_url), service_urls={"reporting": reporting_url})
        )
        async with serve_http(gateway_app) as url, httpx.AsyncClient(base_url=url) as client:
            gateway = Gateway(client, gateway_app, gateway_app.state.settings)
            agent = await gateway.user("agent")
            unsigned = await client.get("/api/v1/reports/metrics", params={"metrics": "created"})
            assert unsigned.status_code == 401, "the data stays behind the gateway's sign-in"

            page = await browser.new_page(viewport={"width": 1280, "height": 1400})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(f"{url}/reports?since=2025-06-02&until=2025-06-09&tz=UTC&interval=day")
            await page.get_by_label("Email").fill(agent["email"])
            await page.get_by_label("Password").fill(agent["password"])
            await page.get_by_role("button", name="Sign in").click()
            await page.wait_for_selector("body[data-loaded=true]", timeout=30000)

            numbers = {
                await item.get_attribute("data-metric"): await item.locator("strong").inner_text()
                for item in await page.locator("#numbers li").all()
            }
            assert numbers == {"created": "5", "solved": "2", "reopened": "0", "backlog": "3", "swarms_started": "0"}
            images = page.locator("#charts img")
            assert await images.count() == 10
            widths = await images.evaluate_all("images => images.map(image => image.naturalWidth)")
            assert all(width > 0 for width in widths), widths
            assert await page.get_by_alt_text("Cases created per interval (chart)").is_visible()

            # Grouped by channel: the charts are drawn again, one line per channel.
            await page.evaluate("document.body.dataset.loaded = ''")
            await page.get_by_label("Group by").select_option("channel")
            await page.get_by_role("button", name="Show").click()
            await page.wait_for_selector("body[data-loaded=true]", timeout=30000)
            assert await page.locator("#report-error").inner_text() == ""

            shot = tmp_path / "reports-dashboard.png"
            await page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 20000
            assert errors == []

            chart = await client.get(
                "/api/v1/reports/charts/created.svg",
                params={"since": "2025-06-02T00:00:00Z", "until": "2025-06-09T00:00:00Z", "group_by": "channel"},
                headers={"Authorization": f"Bearer {(await gateway.login(agent)).json()['access_token']}"},
            )
            assert chart.status_code == 200
            assert chart.headers["content-type"] == "image/svg+xml"
            assert chart.text.startswith("<?xml")
            # Text kept as text: the legend names the channels.
            assert ">email<" in chart.text
            assert ">web<" in chart.text
