"""The whole suite as ``make run`` starts it, for tests that need every process.

:class:`SuiteStack` runs ``omnicase up`` in a child process on free ports with its data
under a directory the test owns, so it never meets a developer's running stack. It can
find, kill and wait for any of the stack's processes, which is how the whole-stack and
end-to-end tests inject crashes. ``omnicase up`` runs as the leader of a process group
of its own, as in a terminal, so :meth:`SuiteStack.interrupt` is a Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import psutil

from omnicase.devtools.devstack.processes import die_with_parent, free_port
from omnicase.kit.service import ServiceSpec, discover_services

# The services the suite is made of: what a test of the whole suite finds installed, migrates and runs.
SUITE_SERVICES = frozenset(
    {
        "gateway",
        "case-core",
        "intake-email",
        "intake-web",
        "routing",
        "sla-engine",
        "knowledge",
        "reporting",
        "collaboration",
    }
)


class StackError(AssertionError):
    """The stack did not do what the test waited for; the message ends with its log."""


class SuiteStack:
    def __init__(self, root: Path, env: Mapping[str, str] | None = None) -> None:
        self.root = root
        self.log = root / "up.log"
        self.specs: dict[str, ServiceSpec] = {spec.name: spec for spec in discover_services()}
        self.env = self._environment(env or {})
        self.data_dir = Path(self.env["OMNICASE_DATA_DIR"])
        self.process: subprocess.Popen[bytes] | None = None

    def _environment(self, overrides: Mapping[str, str]) -> dict[str, str]:
        env = {**os.environ, "OMNICASE_DATA_DIR": str(self.root / "data"), "OMNICASE_READY_TIMEOUT": "120"}
        # Every service's log in the output, for the failure messages that quote its tail.
        env["OMNICASE_FOLLOW_LOGS"] = "true"
        # An outer DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS would make the stack use those servers.
        env.pop("DATABASE_URL", None)
        env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
        env["OMNICASE_POSTGRES_PORT"] = str(free_port())
        env["OMNICASE_KAFKA_PORT"] = str(free_port())
        for spec in self.specs.values():
            env[f"{spec.env_prefix}PORT"] = str(free_port())
            for name in spec.extra_ports:
                env[f"{spec.env_prefix}{name.upper()}_PORT"] = str(free_port())
        env.update(overrides)
        return env

    # -- addresses ------------------------------------------------------------------

    def port(self, service: str, name: str | None = None) -> int:
        prefix = self.specs[service].env_prefix
        return int(self.env[f"{prefix}{name.upper()}_PORT" if name else f"{prefix}PORT"])

    def url(self, service: str = "gateway") -> str:
        return f"http://127.0.0.1:{self.port(service)}"

    @property
    def database_url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.env['OMNICASE_POSTGRES_PORT']}/omnicase"

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.env['OMNICASE_KAFKA_PORT']}"

    # -- life cycle -----------------------------------------------------------------

    def start(self) -> None:
        """Start ``omnicase up``; call it from the thread that lives as long as the stack should.

        The stack goes with that thread (``PR_SET_PDEATHSIG``), so a test run or bench killed
        with SIGKILL leaves no suite behind on its ports.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "omnicase.cli", "up"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
                process_group=0,
            )

    def run_again(self, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """A second ``omnicase up`` with the same settings, to its end (it is expected to refuse)."""
        command = [sys.executable, "-m", "omnicase.cli", "up"]
        return subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=timeout)

    def wait_ready(self, service: str = "gateway", timeout: float = 150) -> dict[str, Any]:
        """``/readyz`` of ``service`` once it answers 200 (the gateway's covers every service)."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                response = httpx.get(self.url(service) + "/readyz", timeout=2)
                last = f"{response.status_code} {response.text}"
                if response.status_code == 200:
                    body: dict[str, Any] = response.json()
                    return body
            except httpx.HTTPError as error:
                last = repr(error)
            time.sleep(0.5)
        raise StackError(f"{service} not ready in {timeout}s: {last}\n{self.log_tail()}")

    def wait_for_line(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            self._check_alive()
            if time.monotonic() > deadline:
                raise StackError(f"{text!r} never printed\n{self.log_tail()}")
            time.sleep(0.2)

    def processes(self) -> list[psutil.Process]:
        """Every process under ``omnicase up``: the services, PostgreSQL, the broker."""
        assert self.process is not None, "stack not started"
        children: list[psutil.Process] = psutil.Process(self.process.pid).children(recursive=True)
        return children

    def service_process(self, service: str) -> psutil.Process:
        for candidate in self.processes():
            try:
                command = candidate.cmdline()
            except psutil.Error:
                continue
            if "serve" in command and service in command:
                return candidate
        raise StackError(f"no process for {service}\n{self.log_tail()}")

    def postmaster(self) -> psutil.Process:
        """The embedded PostgreSQL server's main process (``postgres -D <data dir>``)."""
        for candidate in self.processes():
            with contextlib.suppress(psutil.Error):
                command = candidate.cmdline()
                if command and Path(command[0]).name == "postgres" and "-D" in command:
                    return candidate
        raise StackError(f"no PostgreSQL postmaster\n{self.log_tail()}")

    def interrupt(self) -> None:
        """Ctrl-C, as a terminal sends it: SIGINT to the foreground process group."""
        assert self.process is not None, "stack not started"
        os.killpg(self.process.pid, signal.SIGINT)

    def leftovers(self) -> list[psutil.Process]:
        """Every live process started for this stack, found by its environment (PostgreSQL's backends too)."""
        ours = str(self.data_dir)
        found = []
        for candidate in psutil.process_iter():
            with contextlib.suppress(psutil.Error):
                if candidate.status() != psutil.STATUS_ZOMBIE and candidate.environ().get("OMNICASE_DATA_DIR") == ours:
                    found.append(candidate)
        return found

    def kill_service(self, service: str) -> None:
        """SIGKILL one service, as a crash would; the supervisor starts it again."""
        self.service_process(service).kill()

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM, as Ctrl-C would; the exit status of ``omnicase up``."""
        assert self.process is not None, "stack not started"
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def close(self) -> None:
        """Whatever happened in the test, leave nothing running."""
        if self.process is None or self.process.poll() is not None:
            return
        tree = self.processes()
        self.process.kill()
        self.process.wait(30)
        for child in tree:
            with contextlib.suppress(psutil.Error):
                child.kill()

    # -- output ---------------------------------------------------------------------

    def output(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, chars: int = 3000) -> str:
        return self.output()[-chars:]

    def _check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise StackError(f"omnicase up exited with {self.process.returncode}\n{self.log_tail()}")
