"""The CSV export streams every case of a period in chunks, oldest first; a bad period is refused naming the field."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from sqlalchemy import text

from omnicase.devtools.testing.apps import running
from omnicase.kit.db import create_engine
from omnicase.reporting.app import create_app
from omnicase.reporting.export.api import CHUNK
from omnicase.reporting.settings import ReportingSettings
from omnicase.reporting.testing import REPORTS_SCOPES

pytestmark = pytest.mark.asyncio

MANY = 2 * CHUNK + 500

# A case a minute from Monday 2 March 2026 on, every tenth one solved.
_SEED = text(
    """
    WITH seeded AS (
    INSERT INTO reporting.cases (case_id, number, version, status, channel, brand, priority, created_at,
                                 solved_at, public_replies, resolution_seconds)
    SELECT gen_random_uuid(), n, 1, CASE WHEN n % 10 = 0 THEN 'solved' ELSE 'open' END, 'web', :brand, 'normal',
           TIMESTAMPTZ '2026-03-02 00:00:00+00' + n * INTERVAL '1 minute',
           CASE WHEN n % 10 = 0
                THEN TIMESTAMPTZ '2026-03-02 00:00:00+00' + n * INTERVAL '1 minute' + INTERVAL '1 hour' END,
           CASE WHEN n % 10 = 0 THEN 1 ELSE 0 END,
           CASE WHEN n % 10 = 0 THEN 3600 END
    FROM generate_series(1, :many) AS n
    RETURNING case_id, solved_at
    )
    INSERT INTO reporting.status_changes (case_id, version, kind, at)
    SELECT case_id, 1, 'solved', solved_at FROM seeded WHERE solved_at IS NOT NULL
    """
)


async def test_the_export_streams_every_case_of_the_period_oldest_first(
    settings: ReportingSettings, database_url: str
) -> None:
    brand = f"brand-{uuid.uuid4().hex[:12]}"
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.execute(_SEED, {"brand": brand, "many": MANY})
    finally:
        await engine.dispose()
    async with running(create_app(settings), scopes=REPORTS_SCOPES) as client:
        answer = await client.get(
            "/api/v1/reports/export.csv",
            params={"since": "2026-03-02T00:00:00Z", "until": "2026-03-05T00:00:00Z", "brand": brand},
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-disposition"] == 'attachment; filename="omnicase-cases.csv"'
        rows = list(csv.DictReader(io.StringIO(answer.text)))
        assert len(rows) == MANY
        assert [int(row["number"]) for row in rows] == list(range(1, MANY + 1))
        assert (rows[9]["status"], rows[9]["resolution_seconds"], rows[9]["one_touch"]) == ("solved", "3600.0", "true")
        assert (rows[0]["solved_at"], rows[0]["one_touch"]) == ("", "false")

        # A narrower period and a filter nothing matches.
        narrow = await client.get(
            "/api/v1/reports/export.csv",
            params={"since": "2026-03-02T00:01:00Z", "until": "2026-03-02T00:03:00Z", "brand": brand},
        )
        assert [row["number"] for row in csv.DictReader(io.StringIO(narrow.text))] == ["1", "2"]
        empty = await client.get(
            "/api/v1/reports/export.csv",
            params={"since": "2026-03-02T00:00:00Z", "until": "2026-03-05T00:00:00Z", "brand": brand, "channel": "sms"},
        )
        assert empty.text.splitlines()[0].startswith("case_id,number,status")
        assert len(empty.text.splitlines()) == 1

        refused = await client.get(
            "/api/v1/reports/export.csv", params={"since": "2026-03-05T00:00:00Z", "until": "2026-03-02T00:00:00Z"}
        )
        assert refused.status_code == 422
        assert [error["field"] for error in refused.json()["errors"]] == ["query.since"]
