"""The bench's knobs (environment and ``--events``), its names and its one error."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH_DATABASE = "omnicase_bench"
KIT_SCHEMA = "bench_kit"
RAW_SCHEMA = "bench_raw"
SOURCE = "bench"
CONSUMER_GROUP = "bench-kit"
# After the full-speed kit run, a short run at this share of its rate, for latency without queueing.
PACED_SHARE = 0.5
PACED_SECONDS = 10.0


class BenchError(RuntimeError):
    """A measurement could not be completed; the message says which and why."""


def env_number(name: str, default: float, *, integer: bool = True, zero: bool = False) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    least = "0 or more" if zero else "greater than 0"
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise BenchError(f"{name} must be {kind} {least}, got {raw!r}") from None
    if value < 0 or (value == 0 and not zero):
        raise BenchError(f"{name} must be {least}, got {raw!r}")
    return value


@dataclass(frozen=True)
class BenchConfig:
    events: int
    output: Path
    pg_connections: int = 8
    writers: int = 8
    events_per_tx: int = 10
    partitions: int = 4
    cases: int = 1000
    warmup: int = 500
    stall_timeout: float = 60.0

    @classmethod
    def from_env(cls, events: int, output: str) -> BenchConfig:
        if events <= 0:
            raise BenchError(f"--events / BENCH_EVENTS must be greater than 0, got {events}")
        return cls(
            events=events,
            output=Path(output),
            pg_connections=int(env_number("BENCH_PG_CONNECTIONS", 8)),
            writers=int(env_number("BENCH_WRITERS", 8)),
            events_per_tx=int(env_number("BENCH_EVENTS_PER_TX", 10)),
            partitions=int(env_number("BENCH_PARTITIONS", 4)),
            cases=int(env_number("BENCH_CASES", 1000)),
            # Long enough to open connections, join groups and prepare statements;
            # short next to the measurement so it cannot hide a slow start.
            warmup=int(env_number("BENCH_WARMUP", max(50, min(1000, events // 20)))),
            stall_timeout=env_number("BENCH_STALL_TIMEOUT", 60.0, integer=False),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "pg_connections": self.pg_connections,
            "writers": self.writers,
            "events_per_writer_transaction": self.events_per_tx,
            "partitions": self.partitions,
            "cases": self.cases,
            "warmup": self.warmup,
            "stall_timeout_s": self.stall_timeout,
        }
