"""The metrics API refuses what it cannot answer, naming the field; only staff with reports:read read it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from omnicase.devtools.testing.apps import GatewayIdentity, running
from omnicase.devtools.testing.plugin import SettingsFactory
from omnicase.reporting.app import create_app
from omnicase.reporting.metrics.schemas import Metric
from omnicase.reporting.settings import ReportingSettings
from omnicase.reporting.testing import REPORTS_SCOPES

pytestmark = pytest.mark.asyncio

PERIOD = {"since": "2026-03-02T00:00:00Z", "until": "2026-03-05T00:00:00Z"}


@pytest_asyncio.fixture
async def client(settings: ReportingSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(settings), scopes=REPORTS_SCOPES) as client:
        yield client


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"metrics": "created,velocity"}, "query.metrics"),
        ({"metrics": ""}, "query.metrics"),
        ({"metrics": "created", "group_by": "colour"}, "query.group_by"),
        ({"metrics": "created", "interval": "hour"}, "query.interval"),
        ({"metrics": "created", "tz": "Mars/Olympus"}, "query.tz"),
        ({"metrics": "created", "since": "yesterday"}, "query.since"),
        ({"metrics": "created", "since": "2026-03-05T00:00:00Z", "until": "2026-03-02T00:00:00Z"}, "query.since"),
        ({"metrics": "created", "since": "2024-01-01T00:00:00Z", "until": "2026-03-02T00:00:00Z"}, "query.since"),
        ({"metrics": "created", "channel": "pigeon"}, "query.channel"),
        ({"metrics": "created", "group_id": "not-an-id"}, "query.group_id"),
    ],
)
async def test_bad_parameters_are_refused_naming_the_field(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    answer = await client.get("/api/v1/reports/metrics", params={**PERIOD, **params})
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert field in [error["field"] for error in answer.json()["errors"]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        # Left out, since is 30 days before until: none exist before year 1.
        ({"until": "0001-01-01T00:09:06Z"}, "query.until"),
        # Its last interval would end in the year 10000 there.
        ({"since": "9999-12-30T00:00:00Z", "until": "9999-12-31T00:00:00Z", "tz": "Pacific/Kiritimati"}, "query.since"),
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/reports/metrics", "/api/v1/reports/charts/created.svg"])
async def test_a_period_at_the_calendars_edge_is_refused_naming_the_field_not_a_server_error(
    client: httpx.AsyncClient, path: str, params: dict[str, str], field: str
) -> None:
    answer = await client.get(path, params={"metrics": "created", **params})
    assert answer.status_code == 422, answer.text
    assert field in [error["field"] for error in answer.json()["errors"]]


async def test_a_report_without_data_has_its_intervals_and_no_series(client: httpx.AsyncClient) -> None:
    answer = await client.get(
        "/api/v1/reports/metrics",
        params={**PERIOD, "metrics": "created,backlog", "brand": "nobody-has-this-brand", "interval": "week"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    # Whole ISO weeks: the Monday of since's week to the end of until's.
    assert (body["since"], body["until"]) == ("2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z")
    assert body["series"] == []


async def test_without_reports_read_the_metrics_are_forbidden(
    client: httpx.AsyncClient, settings: ReportingSettings
) -> None:
    light_agent = GatewayIdentity(settings.internal_secret, role="light_agent", scopes=frozenset({"cases:read"}))
    answer = await client.get("/api/v1/reports/metrics", params={**PERIOD, "metrics": "created"}, auth=light_agent)
    assert answer.status_code == 403
    assert "reports:read" in answer.json()["detail"]


async def test_reports_at_once_on_a_pool_smaller_than_they_would_use_all_answer(
    service_settings: SettingsFactory,
) -> None:
    """A report runs its statements on several connections at once when the pool has them: four
    reports of every metric at once on a pool of two connections (each would like three) all
    answer, the same, each on what it could get (none waits for a helper that cannot get one)."""
    settings = service_settings(ReportingSettings, db_pool_size=1, report_connections=3)
    params = {"metrics": ",".join(metric.value for metric in Metric), "group_by": "channel", **PERIOD}
    async with running(create_app(settings), scopes=REPORTS_SCOPES) as client:
        answers = await asyncio.gather(*(client.get("/api/v1/reports/metrics", params=params) for _ in range(4)))
    assert [answer.status_code for answer in answers] == [200] * 4, answers[0].text
    assert all(answer.json() == answers[0].json() for answer in answers)
