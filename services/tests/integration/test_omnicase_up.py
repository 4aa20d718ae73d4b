"""`omnicase up` as a developer runs it: a real stack of processes on free ports."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from omnicase.kit.service import discover_services
from omnicase.kit.testing.stack import SuiteStack

pytestmark = pytest.mark.slow


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[SuiteStack]:
    stack = SuiteStack(tmp_path)
    stack.start()
    try:
        yield stack
    finally:
        stack.close()


def test_up_brings_every_service_ready_behind_the_gateway_and_stops_cleanly(stack: SuiteStack) -> None:
    gateway = stack.url("gateway")
    report = stack.wait_ready()

    services = {spec.name for spec in discover_services()}
    assert services == {"gateway", "case-core", "intake-email", "intake-web", "routing", "sla-engine"}
    assert report["checks"] == {"database": "ok", **{f"service:{name}": "ok" for name in services - {"gateway"}}}
    stack.wait_for_line("Omnicase is up.")
    assert f"API docs       {gateway}/docs" in stack.output()
    assert f"SMTP intake    127.0.0.1:{stack.port('intake-email', 'smtp')} (intake-email)" in stack.output()
    assert f"Web forms      {gateway}/public/forms/<form id>" in stack.output()
    assert (stack.data_dir / "run" / "omnicase.pid").is_file()

    # The generated first admin, printed once up, logs in and reads cases through the gateway.
    login = re.search(r"Admin login    (\S+) / (\S+)", stack.output())
    assert login is not None, stack.log_tail()
    assert (stack.data_dir / "bootstrap-admin.json").stat().st_mode & 0o077 == 0, "the password file is owner-only"
    token = httpx.post(
        f"{gateway}/api/v1/auth/token",
        data={"grant_type": "password", "username": login.group(1), "password": login.group(2)},
        timeout=10,
    )
    assert token.status_code == 200, token.text
    cases = httpx.get(
        f"{gateway}/api/v1/cases", headers={"Authorization": f"Bearer {token.json()['access_token']}"}, timeout=10
    )
    assert cases.status_code == 200, cases.text
    assert cases.json()["items"] == []
    direct = httpx.get(f"{stack.url('case-core')}/api/v1/cases", timeout=10)
    assert direct.status_code == 401, "a service refuses callers that did not come through the gateway"

    # A second stack on the same data directory is refused with a clear message.
    second = stack.run_again()
    assert second.returncode == 2
    assert "omnicase is already running" in second.stderr

    # A crashed service is restarted by the supervisor.
    stack.kill_service("routing")
    time.sleep(1)
    stack.wait_ready("routing")
    stack.wait_for_line("routing exited with code -9; restarting")

    tree = stack.processes()
    assert len(tree) >= 8, "six services, PostgreSQL and the broker"
    assert stack.stop() == 0
    _, alive = psutil.wait_procs(tree, timeout=15)
    assert alive == [], f"left behind: {[p.cmdline() for p in alive]}"
    assert not (stack.data_dir / "run" / "omnicase.pid").exists(), "no stale PID file blocks the next start"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", stack.port("gateway")))


def test_a_port_in_use_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    stack = SuiteStack(tmp_path)
    port = stack.port("gateway")
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        result = subprocess.run(
            [sys.executable, "-m", "omnicase.kit.cli", "up"], env=stack.env, capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 2
    assert f"gateway HTTP: 127.0.0.1:{port} is already in use (set GATEWAY_PORT" in result.stderr
    assert "Traceback" not in result.stderr
