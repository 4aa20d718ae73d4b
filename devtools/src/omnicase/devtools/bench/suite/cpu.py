"""CPU time each part of the suite spends, read from the processes themselves.

A snapshot sums user + system seconds per part: every ``omnicase serve SERVICE`` process
of a service (all its replicas), the ``omnicase up`` supervisor (it pumps every log
line), PostgreSQL (the postmaster, its live backends and the backends it has already
reaped, which ``children_*`` times keep), the broker, and the bench's own process (the
load generators and the observer). The difference of two snapshots over a round,
divided by the messages the round carried, is the CPU milliseconds each part spends per
message.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import psutil

POSTGRES = "postgresql"
BROKER = "broker"
BENCH = "bench (load + observer)"
SUPERVISOR = "omnicase up (supervisor, log pump)"


def _seconds(times: Any, *, children: bool = False) -> float:
    total = float(times.user + times.system)
    if children:
        total += float(times.children_user + times.children_system)
    return total


def _part_of(process: psutil.Process) -> str | None:
    command: list[str] = process.cmdline()
    if "omnicase.cli" in command and "serve" in command:
        return str(command[command.index("serve") + 1])
    if "omnicase.cli" in command and "up" in command:
        return SUPERVISOR
    if command[1:2] == ["broker"]:
        return BROKER
    return None


@dataclass(frozen=True)
class CpuSnapshot:
    seconds: dict[str, float]

    @classmethod
    def take(cls, postgres_pid: int | None) -> CpuSnapshot:
        """Every part is a descendant of the bench: the suite under ``omnicase up``, the broker, PostgreSQL."""
        seconds: defaultdict[str, float] = defaultdict(float)
        for process in psutil.Process(os.getpid()).children(recursive=True):
            try:
                part = _part_of(process)
                if part is not None:
                    seconds[part] += _seconds(process.cpu_times())
            except psutil.Error:
                continue  # gone between the listing and the read: a restarted service
        if postgres_pid is not None:
            try:
                postmaster = psutil.Process(postgres_pid)
                seconds[POSTGRES] += _seconds(postmaster.cpu_times(), children=True)
                for backend in postmaster.children():
                    try:
                        seconds[POSTGRES] += _seconds(backend.cpu_times())
                    except psutil.Error:
                        continue
            except psutil.Error:
                pass
        seconds[BENCH] += _seconds(psutil.Process(os.getpid()).cpu_times())
        return cls(dict(seconds))

    def ms_per_message(self, since: CpuSnapshot, messages: int) -> dict[str, float]:
        """CPU milliseconds per message of each part between ``since`` and this snapshot."""
        if messages <= 0:
            return {}
        return {
            part: round(1000 * (seconds - since.seconds.get(part, 0.0)) / messages, 2)
            for part, seconds in sorted(self.seconds.items())
        }
