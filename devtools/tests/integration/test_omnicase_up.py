"""`omnicase up` as a developer runs it: a real stack of processes on free ports."""

from __future__ import annotations

import contextlib
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from omnicase.devtools.testing.stack import SUITE_SERVICES, StackError, SuiteStack
from omnicase.kit.service import discover_services

pytestmark = pytest.mark.slow


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[SuiteStack]:
    # As a developer runs it: without --logs.
    stack = SuiteStack(tmp_path, env={"OMNICASE_FOLLOW_LOGS": "false"})
    stack.start()
    try:
        yield stack
    finally:
        stack.close()


def _broker(stack: SuiteStack) -> psutil.Process:
    """Tansu's process under ``omnicase up`` (its command is ``<tansu binary> broker …``)."""
    for candidate in stack.processes():
        with contextlib.suppress(psutil.Error):
            if candidate.cmdline()[1:2] == ["broker"]:
                return candidate
    raise StackError(f"no broker process\n{stack.log_tail()}")


def _admin(stack: SuiteStack) -> httpx.Client:
    login = re.search(r"Admin login    (\S+) / (\S+)", stack.output())
    assert login is not None, stack.log_tail()
    gateway = stack.url("gateway")
    token = httpx.post(
        f"{gateway}/api/v1/auth/token",
        data={"grant_type": "password", "username": login.group(1), "password": login.group(2)},
        timeout=10,
    )
    assert token.status_code == 200, token.text
    # No keep-alive: the client closes each connection itself, so no TIME_WAIT is left on the
    # gateway's port (uvicorn closing an idle one would) and the port is free again after stop.
    return httpx.Client(
        base_url=gateway,
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        timeout=15,
        limits=httpx.Limits(max_keepalive_connections=0),
    )


def _create_case(admin: httpx.Client, subject: str) -> str:
    response = admin.post(
        "/api/v1/cases", json={"subject": subject, "requester": {"email": "ada@example.com"}, "tags": ["broker"]}
    )
    assert response.status_code == 201, response.text
    case_id: str = response.json()["id"]
    return case_id


def _wait(predicate: Callable[[], bool], stack: SuiteStack, *, within: float, message: str) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise StackError(f"{message} not reached within {within:.0f}s\n{stack.log_tail()}")
        time.sleep(0.3)


def _routing_knows(admin: httpx.Client, case_id: str) -> Callable[[], bool]:
    def known() -> bool:
        with contextlib.suppress(httpx.HTTPError):
            return admin.get(f"/api/v1/routing/cases/{case_id}").status_code == 200
        return False

    return known


def _decisions(admin: httpx.Client, case_id: str) -> list[Any]:
    response = admin.get(f"/api/v1/routing/cases/{case_id}/decisions")
    assert response.status_code == 200, response.text
    body: Any = response.json()
    items: list[Any] = body["items"] if isinstance(body, dict) else body
    return items


def test_up_runs_the_suite_behind_the_gateway_restarts_what_dies_and_stops_cleanly(stack: SuiteStack) -> None:
    gateway = stack.url("gateway")
    report = stack.wait_ready()

    services = {spec.name for spec in discover_services()}
    assert services == SUITE_SERVICES
    assert report["checks"] == {"database": "ok", **{f"service:{name}": "ok" for name in services - {"gateway"}}}
    stack.wait_for_line("Omnicase is up.")
    assert f"API docs       {gateway}/docs" in stack.output()
    assert f"SMTP intake    127.0.0.1:{stack.port('intake-email', 'smtp')} (intake-email)" in stack.output()
    assert f"Web forms      {gateway}/public/forms/<form id>" in stack.output()
    assert (stack.data_dir / "run" / "omnicase.pid").is_file()
    # The console is for a person: progress, the banner, warnings and errors. Each service's
    # full log is in its own file (and on the console with `omnicase up --logs`).
    stack.wait_for_line("Press Ctrl-C to stop.")
    started = stack.output().split("Press Ctrl-C to stop.")[0]
    assert len(started.splitlines()) < 30, started
    assert '"level": "info"' not in stack.output()
    assert '"level": "info"' in (stack.data_dir / "logs" / "case-core.log").read_text()

    # The generated first admin, printed once up, logs in and reads cases through the gateway.
    assert (stack.data_dir / "bootstrap-admin.json").stat().st_mode & 0o077 == 0, "the password file is owner-only"
    with _admin(stack) as admin:
        cases = admin.get("/api/v1/cases")
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

    # The broker dies; it kept everything in memory. The supervisor starts a new one and
    # publishes again what the lost one held: nothing lost, nothing applied twice.
    with _admin(stack) as admin:
        settled = _create_case(admin, "settled before the crash")
        _wait(_routing_knows(admin, settled), stack, within=30, message="routing saw the first case")
        decided = _decisions(admin, settled)
        # Routing is down while a case is created, so its case.created is only in the broker when it dies.
        stack.kill_service("routing")
        in_flight = _create_case(admin, "in flight at the crash")
        time.sleep(1)  # case-core's relay publishes within milliseconds; routing takes seconds to start
        _broker(stack).kill()

        stack.wait_for_line("!!! Kafka broker (Tansu) exited with code -9", timeout=15)
        stack.wait_for_line("Kafka broker recovered on", timeout=60)
        report = stack.wait_ready(timeout=30)
        assert set(report["checks"].values()) == {"ok"}
        assert _broker(stack).is_running(), "a new broker runs under the supervisor"

        after = _create_case(admin, "created after the recovery")
        for case_id in (settled, in_flight, after):
            _wait(_routing_knows(admin, case_id), stack, within=30, message=f"routing saw case {case_id}")
        listed = admin.get("/api/v1/cases", params={"tag": "broker", "limit": 10})
        assert listed.status_code == 200, listed.text
        subjects = sorted(item["subject"] for item in listed.json()["items"])
        assert subjects == ["created after the recovery", "in flight at the crash", "settled before the crash"]
        assert _decisions(admin, settled) == decided, "the replayed case.created changed nothing in routing"
        # `omnicase status` finds every service where `omnicase up` put it.
        status = subprocess.run(
            [sys.executable, "-m", "omnicase.cli", "status"], env=stack.env, capture_output=True, text=True, timeout=60
        )
        assert status.returncode == 0, status.stdout + status.stderr
        shown = {line.split()[0]: line for line in status.stdout.splitlines()[1:]}
        assert set(shown) == services
        assert all(" ready " in line for line in shown.values()), status.stdout
        # Consumers that have handled events report their lag (none of them gave up on one).
        assert re.search(r"routing\S* \d+ behind", shown["routing"]), status.stdout
        assert not [line for line in shown.values() if " dead" in line], status.stdout
        replayed = re.search(r"Kafka broker recovered on \S+: (\d+) events published again", stack.output())
        assert replayed is not None
        assert int(replayed.group(1)) >= 2, "both cases' case.created were in the lost broker"

    tree = stack.processes()
    assert len(tree) >= 8, "six services, PostgreSQL and the (new) broker"
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
            [sys.executable, "-m", "omnicase.cli", "up"], env=stack.env, capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 2
    assert f"gateway HTTP: 127.0.0.1:{port} is already in use (set GATEWAY_PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_service_run_as_several_processes_shares_its_port_and_its_partitions(tmp_path: Path) -> None:
    stack = SuiteStack(tmp_path, env={"OMNICASE_PROCESSES": '{"case-core": 2, "routing": 2}'})
    stack.start()
    try:
        stack.wait_ready()
        stack.wait_for_line("Omnicase is up.")
        assert f"case-core      {stack.url('case-core')}  (2 processes)" in stack.output()
        serving = [p.cmdline() for p in stack.processes() if "serve" in p.cmdline()]
        assert sum("case-core" in command for command in serving) == 2
        assert sum("routing" in command for command in serving) == 2
        assert sum("sla-engine" in command for command in serving) == 1

        # Requests reach either case-core process through the one port; every case reaches
        # routing, whichever of its two processes owns the case's partition.
        with _admin(stack) as admin:
            cases = [_create_case(admin, f"case {index}") for index in range(8)]
            for case_id in cases:
                _wait(_routing_knows(admin, case_id), stack, within=30, message=f"routing saw case {case_id}")
            # One process dies; the other keeps serving while the supervisor starts it again
            # (a request caught on the dead process's connection is answered 502 and sent again).
            stack.service_process("case-core").kill()
            for _ in range(5):
                body = {"subject": "meanwhile", "requester": {"email": "a@b.example"}}
                answer = admin.post("/api/v1/cases", json=body)
                if answer.status_code not in {502, 503}:
                    break
            assert answer.status_code == 201, answer.text
            after = answer.json()["id"]
            _wait(_routing_knows(admin, after), stack, within=30, message="routing saw the case made meanwhile")
        stack.wait_for_line("exited with code -9; restarting")
        tree = stack.processes()
        assert stack.stop() == 0
        _, alive = psutil.wait_procs(tree, timeout=15)
        assert alive == [], f"left behind: {[p.cmdline() for p in alive]}"
    finally:
        stack.close()


def _interrupted_within_five_seconds(stack: SuiteStack, *, twice: bool = False) -> int:
    """Ctrl-C (twice: Ctrl-C Ctrl-C) as a terminal sends it; ``omnicase up``'s exit status once it ended.

    It must end within five seconds, leaving no process of its own (services, the broker,
    PostgreSQL and its backends) behind.
    """
    assert stack.process is not None
    stack.interrupt()
    if twice:
        # As a person would: again once the first one shows (two at once are one signal to the kernel).
        while "stopping …" not in stack.output() and stack.process.poll() is None:
            time.sleep(0.05)
        time.sleep(0.1)
        stack.interrupt()
    try:
        code = stack.process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        raise StackError(f"still running 5 s after Ctrl-C\n{stack.log_tail()}") from None
    left = stack.leftovers()
    assert left == [], f"left behind: {[p.cmdline() for p in left]}\n{stack.log_tail()}"
    return code


def test_ctrl_c_at_any_moment_of_start_up_stops_everything_within_five_seconds(tmp_path: Path) -> None:
    # One data directory for every run, as a developer's .data: PostgreSQL initializes it once.
    data = {"OMNICASE_DATA_DIR": str(tmp_path / "data")}
    moments = [
        "starting PostgreSQL",  # the first run: initdb is at work
        "running migrations …",
        "topics ready",  # the services are starting
    ]
    for index, line in enumerate(moments):
        stack = SuiteStack(tmp_path / f"run{index}", env=data)
        stack.start()
        try:
            stack.wait_for_line(line, timeout=120)
            assert _interrupted_within_five_seconds(stack) == 0, stack.log_tail()
        finally:
            stack.close()
        assert not (tmp_path / "data" / "run" / "omnicase.pid").exists(), "no stale PID file blocks the next start"

    # Ctrl-C the moment it is ready, consumers still joining their groups.
    stack = SuiteStack(tmp_path / "ready", env=data)
    stack.start()
    try:
        stack.wait_ready()
        assert _interrupted_within_five_seconds(stack) == 0
    finally:
        stack.close()
    stopped = stack.output().split("stopping …", 1)[1]
    for storm in ("Unable connect to node", "Marking the coordinator dead", "Traceback"):
        assert storm not in stopped, f"{storm!r} on the console while stopping:\n{stopped[-3000:]}"

    # Ctrl-C Ctrl-C: everything is killed at once, PostgreSQL included; the next start recovers.
    stack = SuiteStack(tmp_path / "forced", env=data)
    stack.start()
    try:
        stack.wait_ready()
        assert _interrupted_within_five_seconds(stack, twice=True) == 130
        assert "killing every process now" in stack.output()
    finally:
        stack.close()


def test_ctrl_c_under_load_stops_everything_within_five_seconds(tmp_path: Path) -> None:
    stack = SuiteStack(tmp_path)
    stack.start()
    created: list[str] = []
    loading = threading.Event()
    done = threading.Event()

    def load(admin: httpx.Client) -> None:
        # A frontend creating cases as fast as the suite takes them: case-core, its relay,
        # routing and sla-engine's consumers all at work when Ctrl-C comes.
        while not done.is_set():
            with contextlib.suppress(httpx.HTTPError):
                answer = admin.post("/api/v1/cases", json={"subject": "load", "requester": {"email": "l@b.example"}})
                if answer.status_code == 201:
                    created.append(answer.json()["id"])
                    if len(created) >= 20:
                        loading.set()

    try:
        stack.wait_ready()
        stack.wait_for_line("Omnicase is up.")
        with _admin(stack) as admin:
            worker = threading.Thread(target=load, args=(admin,), daemon=True)
            worker.start()
            try:
                assert loading.wait(60), f"no load: {len(created)} cases\n{stack.log_tail()}"
                assert _interrupted_within_five_seconds(stack) == 0
            finally:
                done.set()
                worker.join(30)
    finally:
        stack.close()
