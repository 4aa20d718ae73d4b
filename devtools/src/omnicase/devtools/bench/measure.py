"""A measured row, percentiles, and the CPU this process and the host spent while it ran."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from omnicase.devtools.bench.config import BenchError

T = TypeVar("T")


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of ``values`` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Measurement:
    key: str
    name: str
    count: int
    seconds: float | None
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    latency_from: str = ""
    # Stage latencies known only as percentiles (computed by PostgreSQL).
    fixed_percentiles: dict[str, float] | None = None
    cpu: CpuUsage | None = None
    # Outcomes other than success, by answer (the suite's API rows); None where nothing can fail but the run.
    errors: dict[str, int] | None = None
    # False for rows whose work is no INSERT (reads): their rate is not shown as a share of the ceiling.
    compare_to_ceiling: bool = True

    @property
    def rate(self) -> float | None:
        return self.count / self.seconds if self.seconds else None

    def percentiles(self) -> dict[str, float | None]:
        if self.fixed_percentiles is not None:
            return {name: self.fixed_percentiles.get(name) for name in ("p50", "p95", "p99")}
        return {f"p{p}": percentile(self.latencies_ms, p) for p in (50, 95, 99)}

    def as_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "key": self.key,
            "name": self.name,
            "count": self.count,
            "seconds": rounded(self.seconds, 3),
            "rate_per_s": rounded(self.rate, 1),
        }
        entry.update({f"{name}_ms": rounded(value, 2) for name, value in self.percentiles().items()})
        if self.latency_from:
            entry["latency"] = self.latency_from
        if self.errors is not None:
            entry["errors"] = self.errors
        if self.cpu is not None:
            entry["bench_process_cpu_pct_of_one_core"] = rounded(self.cpu.process_pct, 1)
            entry["host_cpu_busy_pct"] = rounded(self.cpu.host_pct, 1)
        return entry


def rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


@dataclass(frozen=True)
class CpuUsage:
    """CPU used while something was measured: is the bench process or the whole host the limit?"""

    process_pct: float  # of one core: this process runs on one thread
    host_pct: float | None  # of all cores, every process on the host (servers, and anything else running)


class CpuMeter:
    def __init__(self) -> None:
        self._wall = time.perf_counter()
        self._process = time.process_time()
        self._host = _host_jiffies()

    def usage(self) -> CpuUsage:
        wall = time.perf_counter() - self._wall
        process = time.process_time() - self._process
        host: float | None = None
        now = _host_jiffies()
        if now is not None and self._host is not None and now[1] > self._host[1]:
            host = 100 * (now[0] - self._host[0]) / (now[1] - self._host[1])
        return CpuUsage(100 * process / wall if wall > 0 else 0.0, host)


def _host_jiffies() -> tuple[int, int] | None:
    """(busy, total) jiffies of all CPUs from /proc/stat; None where there is no /proc."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(value) for value in stat.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields)
    return total - idle, total


async def await_with_progress(
    task: Awaitable[T],
    *,
    what: str,
    progress: Callable[[], int],
    target: int,
    stall_timeout: float,
    check: Callable[[], None] | None = None,
    detail: Callable[[], str] | None = None,
) -> T:
    """Await ``task``, failing with a clear message if ``progress()`` stops moving."""
    future = asyncio.ensure_future(task)
    loop = asyncio.get_running_loop()
    last_value, last_change = progress(), loop.time()
    try:
        while True:
            done, _ = await asyncio.wait({future}, timeout=0.5)
            if done:
                return future.result()
            if check is not None:
                check()
            value = progress()
            if value != last_value:
                last_value, last_change = value, loop.time()
            elif loop.time() - last_change > stall_timeout:
                state = f"; {detail()}" if detail is not None else ""
                raise BenchError(f"{what} made no progress for {stall_timeout:.0f}s ({value}/{target} done{state})")
    finally:
        if not future.done():
            future.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await future
