"""The chat widget's bench rows, small: every message is acknowledged and every reply reaches its visitor's socket
on a real intake-web process, and every first message becomes a case in the case-core beside it."""

from __future__ import annotations

import pytest

from omnicase.devtools.bench.services import BenchTarget
from omnicase.intake_web.bench import measure

pytestmark = pytest.mark.asyncio


async def test_the_widget_bench_measures_messages_over_sockets_and_replies_reaching_every_visitor(
    database_url: str, kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {"BENCH_WIDGET_VISITORS": "20", "BENCH_WIDGET_REPLIES": "10", "BENCH_WIDGET_RATE": "20"}.items():
        monkeypatch.setenv(name, value)
    accepted, replies, to_case = await measure(BenchTarget(database_url, kafka_bootstrap))
    assert accepted.count == 20
    assert replies.count == 10
    assert not accepted.errors
    assert not replies.errors
    # Every visitor's first message but the warm-up visitor's (whose case the warm-up opened) became a case.
    assert to_case.count == 19
    assert not to_case.errors
    assert to_case.key == "widget_visitor_to_case_created"
    assert accepted.key == "widget_socket_message_accepted"
    assert "KB per open socket" in replies.latency_from
