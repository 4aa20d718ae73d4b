"""Services' own measurements in ``omnicase bench``, on the run's servers.

A service adds rows to ``make bench`` by registering an entry point in the
``omnicase.benches`` group, named after the service, that points at an
``async def bench(target: BenchTarget) -> list[Measurement]``. The kit gives it a fresh
database with that service's schema migrated on the run's durable PostgreSQL, so its
rows sit beside the same INSERT ceiling (the kit never imports a service by name).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from omnicase.kit.service import get_service
from omnicase.ops.migrations import upgrade

if TYPE_CHECKING:
    from omnicase.devtools.bench.measure import Measurement
    from omnicase.devtools.devstack.postgres import EmbeddedPostgres

ENTRY_POINT_GROUP = "omnicase.benches"


@dataclass(frozen=True)
class BenchTarget:
    """What a service bench runs against."""

    database_url: str
    bootstrap_servers: str

    @staticmethod
    def size(name: str, default: int) -> int:
        """A size the operator may override (``BENCH_ROUTING_AGENTS`` …); must be a positive integer."""
        raw = os.environ.get(name, "").strip()
        if not raw:
            return default
        if not raw.isdigit() or int(raw) <= 0:
            raise ValueError(f"{name} must be a whole number greater than 0, got {raw!r}")
        return int(raw)


ServiceBench = Callable[[BenchTarget], Awaitable[list["Measurement"]]]


def discover_benches() -> list[tuple[str, ServiceBench]]:
    """Installed service benches, by service name; ``BENCH_SERVICES`` (comma-separated) picks some."""
    wanted = {name.strip() for name in os.environ.get("BENCH_SERVICES", "").split(",") if name.strip()}
    found = sorted((entry.name, entry.load()) for entry in entry_points(group=ENTRY_POINT_GROUP))
    return [(name, bench) for name, bench in found if not wanted or name in wanted]


async def run_service_bench(
    name: str, bench: ServiceBench, postgres: EmbeddedPostgres, bootstrap_servers: str
) -> list[Measurement]:
    database = f"omnicase_bench_{name.replace('-', '_')}"
    await asyncio.to_thread(postgres.ensure_database, database)
    url = postgres.url(database)
    await asyncio.to_thread(upgrade, get_service(name), url)
    return await bench(BenchTarget(database_url=url, bootstrap_servers=bootstrap_servers))
