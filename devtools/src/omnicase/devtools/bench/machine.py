"""What the run ran on: CPUs, memory, filesystem, versions, load."""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from omnicase.devtools.devstack.broker import broker_binary
from omnicase.devtools.devstack.postgres import EmbeddedPostgres


def _read_first(path: str, prefix: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _read_loadavg() -> str | None:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return None


def _filesystem_of(path: Path) -> str:
    """Filesystem type holding ``path`` (tmpfs would make fsync meaningless, so say which)."""
    best, kind = "", "unknown"
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return kind
    resolved = str(path.resolve())
    for line in mounts:
        parts = line.split()
        if len(parts) < 3 or len(parts[1]) < len(best):
            continue
        if resolved == parts[1] or resolved.startswith(parts[1].rstrip("/") + "/"):
            best, kind = parts[1], parts[2]
    return kind


def _versions(*packages: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for package in packages:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found[package] = importlib.metadata.version(package)
    return found


def _broker_version() -> str:
    try:
        result = subprocess.run([broker_binary(), "--version"], capture_output=True, text=True, timeout=10)
        version = result.stdout.strip() or "tansu (version unknown)"
    except (OSError, subprocess.SubprocessError):
        version = "tansu (version unknown)"
    return f"{version} memory"


def describe_machine(postgres: EmbeddedPostgres) -> dict[str, Any]:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    memory = _read_first("/proc/meminfo", "MemTotal")
    return {
        "nproc": usable,
        "cpu": _read_first("/proc/cpuinfo", "model name") or platform.processor() or "unknown",
        "memory": memory,
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "loadavg_at_start": _read_loadavg(),
        "postgresql": postgres.psql("SELECT version()"),
        "postgresql_version": "PostgreSQL " + postgres.psql("SHOW server_version"),
        "postgresql_settings": {
            name: postgres.psql(f"SHOW {name}")
            for name in ("fsync", "synchronous_commit", "wal_sync_method", "shared_buffers", "max_connections")
        },
        "data_dir_filesystem": _filesystem_of(postgres.data_dir),
        "broker": _broker_version(),
        "libraries": _versions("asyncpg", "aiokafka", "SQLAlchemy", "pydantic", "uvloop"),
    }
