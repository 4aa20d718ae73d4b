"""``omnicase status`` reads what piles up from a service's own metrics."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from omnicase.status import ConsumerStatus, ServiceStatus, read_metrics, report, service_status


def test_lag_and_dead_letters_add_up_per_consumer_group_and_the_oldest_backlog_counts() -> None:
    registry = CollectorRegistry()
    lag = Gauge("omnicase_consumer_lag", "", ["consumer", "topic", "partition"], registry=registry)
    messages = Counter("omnicase_consumer_messages_total", "", ["consumer", "topic", "outcome"], registry=registry)
    backlog = Gauge("omnicase_outbox_oldest_pending_seconds", "", ["schema"], registry=registry)
    lag.labels("routing", "case.events", "0").set(3)
    lag.labels("routing", "case.events", "1").set(4)
    lag.labels("case-core.intake", "intake.messages", "0").set(0)
    messages.labels("routing", "case.events", "processed").inc(100)
    messages.labels("routing", "case.events", "dead_lettered").inc(2)
    backlog.labels("routing").set(1.5)

    seconds, consumers = read_metrics(generate_latest(registry).decode())

    assert seconds == 1.5
    assert consumers == {"case-core.intake": ConsumerStatus(0, 0), "routing": ConsumerStatus(lag=7, dead_letters=2)}


def test_the_report_names_what_is_not_ready_and_why() -> None:
    statuses = [
        ServiceStatus("routing", "http://r", ready=True, consumers={"routing": ConsumerStatus(7, 2)}),
        ServiceStatus("sla-engine", "http://s", problems=["database: failing: timeout"]),
    ]
    lines = report(statuses).splitlines()
    assert lines[1].split()[:2] == ["routing", "ready"]
    assert "routing 7 behind, 2 dead" in lines[1]
    assert "NOT READY" in lines[2]
    assert lines[3].strip() == "! database: failing: timeout"


@pytest.mark.asyncio
async def test_something_else_answering_where_a_service_should_be_is_named_not_a_traceback() -> None:
    def stranger(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/readyz":
            return httpx.Response(200, json=["not", "a", "report"])
        return httpx.Response(200, text="<html>hello {</html>")

    async with httpx.AsyncClient(transport=httpx.MockTransport(stranger)) as client:
        status = await service_status(client, "routing", "http://stranger")
    assert status.ready is False
    assert status.problems == ["http://stranger/metrics is not a service's metrics"]
