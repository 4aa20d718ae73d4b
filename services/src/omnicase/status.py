"""``omnicase status``: is every service ready, and is anything piling up?

Read from each service's own ``/readyz`` and ``/metrics`` (no database or broker access of
its own): readiness with the failing checks, the age of the oldest event its outbox has not
published, and per consumer group the messages it is behind (lag) and those it gave up on
(dead letters, see ``omnicase dlq``). Services are found where ``omnicase up`` puts them
(``<SERVICE>_PORT`` or the dev port, on ``OMNICASE_HOST``), or at ``--url service=URL``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from dataclasses import dataclass, field

import httpx
from prometheus_client.parser import text_string_to_metric_families

from omnicase.kit.service import ServiceSpec


@dataclass
class ConsumerStatus:
    lag: int = 0
    dead_letters: int = 0


@dataclass
class ServiceStatus:
    name: str
    url: str
    ready: bool = False
    problems: list[str] = field(default_factory=list)
    outbox_backlog_seconds: float = 0.0
    consumers: dict[str, ConsumerStatus] = field(default_factory=dict)


def read_metrics(text: str) -> tuple[float, dict[str, ConsumerStatus]]:
    """The oldest unpublished outbox row's age, and lag and dead letters per consumer group."""
    backlog = 0.0
    consumers: defaultdict[str, ConsumerStatus] = defaultdict(ConsumerStatus)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "omnicase_outbox_oldest_pending_seconds":
                backlog = max(backlog, sample.value)
            elif sample.name == "omnicase_consumer_lag":
                consumers[sample.labels["consumer"]].lag += int(sample.value)
            elif sample.name == "omnicase_consumer_messages_total":
                consumer = consumers[sample.labels["consumer"]]
                if sample.labels.get("outcome") == "dead_lettered":
                    consumer.dead_letters += int(sample.value)
    return backlog, dict(sorted(consumers.items()))


async def service_status(client: httpx.AsyncClient, name: str, url: str) -> ServiceStatus:
    status = ServiceStatus(name, url)
    try:
        ready = await client.get(f"{url}/readyz")
        status.ready = ready.status_code == 200
        checks: dict[str, str] = {}
        with contextlib.suppress(ValueError, AttributeError):
            checks = dict(ready.json().get("checks", {}))
        status.problems = [f"{check}: {result}" for check, result in checks.items() if result != "ok"]
        metrics = await client.get(f"{url}/metrics")
        status.outbox_backlog_seconds, status.consumers = read_metrics(metrics.text)
    except httpx.HTTPError as error:
        status.problems = [f"not answering at {url} ({type(error).__name__})"]
    except (ValueError, KeyError):
        # Something answers there, but not an Omnicase service's /metrics.
        status.ready = False
        status.problems = [f"{url}/metrics is not a service's metrics"]
    return status


async def suite_status(urls: dict[str, str]) -> list[ServiceStatus]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        return list(await asyncio.gather(*(service_status(client, name, url) for name, url in urls.items())))


def service_urls(specs: list[ServiceSpec], environ: dict[str, str], given: dict[str, str]) -> dict[str, str]:
    host = environ.get("OMNICASE_HOST", "127.0.0.1")
    return {
        spec.name: given.get(spec.name) or f"http://{host}:{environ.get(f'{spec.env_prefix}PORT', spec.dev_port)}"
        for spec in specs
    }


def report(statuses: list[ServiceStatus]) -> str:
    lines = [f"{'service':<14} {'state':<10} {'outbox backlog':>14}  consumers (lag, dead letters)"]
    for status in statuses:
        consumers = ", ".join(
            f"{group} {consumer.lag} behind" + (f", {consumer.dead_letters} dead" if consumer.dead_letters else "")
            for group, consumer in status.consumers.items()
        )
        state = "ready" if status.ready else "NOT READY"
        lines.append(f"{status.name:<14} {state:<10} {status.outbox_backlog_seconds:>12.1f} s  {consumers or '-'}")
        lines += [f"{'':<14} ! {problem}" for problem in status.problems]
    return "\n".join(lines)
