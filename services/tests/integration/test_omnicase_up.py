"""`omnicase up` as a developer runs it: a real stack of processes on free ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from omnicase.kit.devstack.processes import free_port
from omnicase.kit.service import discover_services

pytestmark = pytest.mark.slow


def stack_env(data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "OMNICASE_DATA_DIR": str(data_dir), "OMNICASE_READY_TIMEOUT": "120"}
    env["OMNICASE_POSTGRES_PORT"] = str(free_port())
    env["OMNICASE_KAFKA_PORT"] = str(free_port())
    for spec in discover_services():
        env[f"{spec.env_prefix}PORT"] = str(free_port())
        for name in spec.extra_ports:
            env[f"{spec.env_prefix}{name.upper()}_PORT"] = str(free_port())
    env.pop("DATABASE_URL", None)
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    return env


def start_stack(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "omnicase.kit.cli", "up"], env=env, stdout=out, stderr=subprocess.STDOUT
        )


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 150) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"omnicase up exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            response = httpx.get(url, timeout=2)
            last = response.text
            if response.status_code == 200:
                body: dict[str, object] = response.json()
                return body
        except httpx.HTTPError as error:
            last = repr(error)
        time.sleep(0.5)
    pytest.fail(f"not ready in {timeout}s: {last}\n{log.read_text()[-3000:]}")


def wait_for_line(log: Path, text: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{text!r} never printed:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], dict[str, str], Path]]:
    env = stack_env(tmp_path / "data")
    log = tmp_path / "up.log"
    process = start_stack(env, log)
    try:
        yield process, env, log
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)


def test_up_brings_every_service_ready_behind_the_gateway_and_stops_cleanly(
    stack: tuple[subprocess.Popen[bytes], dict[str, str], Path], tmp_path: Path
) -> None:
    process, env, log = stack
    gateway = f"http://127.0.0.1:{env['GATEWAY_PORT']}"
    report = wait_ready(gateway + "/readyz", process, log)

    services = {spec.name for spec in discover_services()}
    assert services == {"gateway", "case-core", "intake-email", "intake-web", "routing", "sla-engine"}
    assert report["checks"] == {"database": "ok", **{f"service:{name}": "ok" for name in services - {"gateway"}}}
    wait_for_line(log, "Omnicase is up.", process)
    assert f"API docs       {gateway}/docs" in log.read_text()
    assert (tmp_path / "data" / "run" / "omnicase.pid").is_file()

    # A second stack on the same data directory is refused with a clear message.
    second = subprocess.run(
        [sys.executable, "-m", "omnicase.kit.cli", "up"], env=env, capture_output=True, text=True, timeout=60
    )
    assert second.returncode == 2
    assert "omnicase is already running" in second.stderr

    # A crashed service is restarted by the supervisor.
    tree = psutil.Process(process.pid).children(recursive=True)
    routing = next(p for p in tree if "serve" in p.cmdline() and "routing" in p.cmdline())
    routing.kill()
    time.sleep(1)
    wait_ready(f"http://127.0.0.1:{env['ROUTING_PORT']}/readyz", process, log)
    wait_for_line(log, "routing exited with code -9; restarting", process)

    tree = psutil.Process(process.pid).children(recursive=True)
    assert len(tree) >= 8, "six services, PostgreSQL and the broker"
    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 0
    _, alive = psutil.wait_procs(tree, timeout=15)
    assert alive == [], f"left behind: {[p.cmdline() for p in alive]}"
    assert not (tmp_path / "data" / "run" / "omnicase.pid").exists(), "no stale PID file blocks the next start"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", int(env["GATEWAY_PORT"])))


def test_a_port_in_use_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    env = stack_env(tmp_path / "data")
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", int(env["GATEWAY_PORT"])))
        holder.listen()
        result = subprocess.run(
            [sys.executable, "-m", "omnicase.kit.cli", "up"], env=env, capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 2
    assert f"gateway HTTP: 127.0.0.1:{env['GATEWAY_PORT']} is already in use (set GATEWAY_PORT" in result.stderr
    assert "Traceback" not in result.stderr
