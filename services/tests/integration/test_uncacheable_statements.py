"""A statement SQLAlchemy compiles on every execution is reported once, so it gets fixed."""

from __future__ import annotations

import logging
import uuid

import pytest
from sqlalchemy import insert

from omnicase.devtools.testing.plugin import ScratchSchema

pytestmark = pytest.mark.asyncio


async def test_a_multi_row_values_insert_is_reported_once_and_rows_as_parameters_never(
    scratch_schema: ScratchSchema, caplog: pytest.LogCaptureFixture
) -> None:
    table = scratch_schema.inbox
    caplog.set_level(logging.WARNING, logger="omnicase.kit.db")
    for batch in range(3):
        rows = [{"consumer": f"c{batch}", "event_id": uuid.uuid4()} for _ in range(2)]
        async with scratch_schema.database.unit_of_work() as session:
            await session.execute(insert(table).values(rows))
            await session.execute(insert(table), [{**row, "consumer": "as parameters"} for row in rows])

    reported = [record for record in caplog.records if "compiled on every execution" in record.getMessage()]
    assert len(reported) == 1, [record.__dict__.get("statement") for record in reported]
    assert "VALUES" in reported[0].__dict__["statement"]
