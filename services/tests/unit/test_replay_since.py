"""How `omnicase outbox replay --since` and `--service` read the operator's input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from omnicase.kit.service import ServiceSpec
from omnicase.ops.replay import ReplayError, parse_since, select_services

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "back"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("1h", timedelta(hours=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("2d", timedelta(days=2)),
        (" 45m ", timedelta(minutes=45)),
    ],
)
def test_a_duration_counts_back_from_now(text: str, back: timedelta) -> None:
    assert parse_since(text, now=NOW) == NOW - back


def test_an_rfc_3339_time_is_taken_as_given() -> None:
    assert parse_since("2026-11-23T14:10:00Z", now=NOW) == datetime(2026, 11, 23, 14, 10, tzinfo=UTC)
    assert parse_since("2026-11-23T15:10:00+01:00", now=NOW) == datetime(2026, 11, 23, 14, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is neither a duration"),
        ("1x", "is neither a duration"),
        ("-1h", "is neither a duration"),
        ("h", "is neither a duration"),
        ("1m1h", "is neither a duration"),
        ("0h", "must be longer than zero"),
        ("2026-11-23T14:10:00", "give the time's UTC offset"),
        ("2026-11-23T16:00:00Z", "is in the future"),
    ],
)
def test_what_is_neither_a_duration_nor_a_past_time_is_refused(text: str, message: str) -> None:
    with pytest.raises(ReplayError, match=message):
        parse_since(text, now=NOW)


def _spec(name: str) -> ServiceSpec:
    return ServiceSpec(name=name, description="", package="omnicase.kit", schema=name, env_prefix="X_", dev_port=1)


def test_services_are_every_installed_one_or_the_named_ones_once() -> None:
    installed = [_spec("case-core"), _spec("routing"), _spec("gateway")]
    assert select_services(installed, []) == installed
    assert [spec.name for spec in select_services(installed, ["routing", "case-core", "routing"])] == [
        "routing",
        "case-core",
    ]
    with pytest.raises(ReplayError, match=r"unknown service 'rooting'; installed: case-core, gateway, routing"):
        select_services(installed, ["rooting"])
