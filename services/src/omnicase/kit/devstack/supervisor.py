"""``omnicase up``: the whole suite on one machine, with nothing to set up.

Starts (unless ``DATABASE_URL`` / ``KAFKA_BOOTSTRAP_SERVERS`` point elsewhere) a
real PostgreSQL and the Tansu broker, migrates every service, creates the topics,
starts every service as its own uvicorn process with the gateway last, waits until
each is ready, prints where everything is, and streams their logs with a service
prefix. A service that crashes is restarted with backoff. Ctrl-C or SIGTERM stops
everything in reverse order; children are also tied to the supervisor's life
(``PR_SET_PDEATHSIG``), so even a killed supervisor leaves no process behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import httpx
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from omnicase.kit.bus.admin import ensure_suite_topics
from omnicase.kit.devstack.admin import BootstrapAdmin, bootstrap_admin
from omnicase.kit.devstack.broker import TansuBroker
from omnicase.kit.devstack.postgres import EmbeddedPostgres
from omnicase.kit.devstack.processes import PortInUse, die_with_parent, port_in_use
from omnicase.kit.migrations import upgrade
from omnicase.kit.service import ServiceSpec, discover_services
from omnicase.kit.settings import normalize_database_url

DATABASE_NAME = "omnicase"
RESET = "\033[0m"


class StackSettings(BaseSettings):
    """How `omnicase up` lays the stack out (environment variables prefixed ``OMNICASE_``)."""

    model_config = SettingsConfigDict(env_prefix="OMNICASE_", extra="ignore")

    data_dir: Path = Path(".data")
    host: str = "127.0.0.1"
    postgres_port: int = Field(default=55432, ge=1, le=65535)
    kafka_port: int = Field(default=19092, ge=1, le=65535)
    topic_partitions: int = Field(default=4, ge=1, le=256)
    ready_timeout: float = Field(default=90.0, gt=0)


@dataclass
class ServiceProcess:
    spec: ServiceSpec
    port: int
    env: dict[str, str]
    extra_ports: dict[str, int] = field(default_factory=dict)  # e.g. {"smtp": 2525}
    process: asyncio.subprocess.Process | None = None
    restarts: list[float] = field(default_factory=list)
    pump: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.env['OMNICASE_HOST']}:{self.port}"


class AlreadyRunning(RuntimeError):
    pass


def _color(name: str) -> str:
    if not sys.stdout.isatty():
        return ""
    return f"\033[{31 + sum(map(ord, name)) % 6}m"


class Supervisor:
    def __init__(self, settings: StackSettings, out: TextIO = sys.stdout) -> None:
        self.settings = settings
        self.out = out
        self.data_dir = settings.data_dir.resolve()
        self.run_dir = self.data_dir / "run"
        self.log_dir = self.data_dir / "logs"
        self.pid_file = self.run_dir / "omnicase.pid"
        self.postgres: EmbeddedPostgres | None = None
        self.broker: TansuBroker | None = None
        self.services: list[ServiceProcess] = []
        self.admin: BootstrapAdmin | None = None
        self.stopping = asyncio.Event()

    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    # -- single instance -----------------------------------------------------------

    def _claim_pid_file(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if self.pid_file.exists():
            try:
                pid = int(self.pid_file.read_text().strip())
                os.kill(pid, 0)
            except (ValueError, ProcessLookupError):
                self.pid_file.unlink(missing_ok=True)  # stale: its owner is gone
            except PermissionError:
                raise AlreadyRunning(
                    f"omnicase is already running from {self.data_dir} (pid file {self.pid_file})"
                ) from None
            else:
                if pid != os.getpid():
                    raise AlreadyRunning(f"omnicase is already running from {self.data_dir} (pid {pid}); stop it first")
        self.pid_file.write_text(str(os.getpid()))

    # -- ports -----------------------------------------------------------------------

    def _plan_services(self, database_url: str, bootstrap: str) -> None:
        specs = discover_services()
        host = self.settings.host
        ports = {spec.name: int(os.environ.get(f"{spec.env_prefix}PORT", spec.dev_port)) for spec in specs}
        urls = {name: f"http://{host}:{port}" for name, port in ports.items() if name != "gateway"}
        for spec in specs:
            extra = {
                name: int(os.environ.get(f"{spec.env_prefix}{name.upper()}_PORT", port))
                for name, port in spec.extra_ports.items()
            }
            env = {
                **os.environ,
                "OMNICASE_ENV": os.environ.get("OMNICASE_ENV", "dev"),
                "OMNICASE_HOST": host,
                f"{spec.env_prefix}PORT": str(ports[spec.name]),
                "DATABASE_URL": database_url,
                "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                "OMNICASE_SERVICE_URLS": json.dumps(urls),
                # Form snippets and channel webhook URLs point at the public entry, not at intake-web.
                "INTAKE_WEB_PUBLIC_BASE_URL": os.environ.get(
                    "INTAKE_WEB_PUBLIC_BASE_URL", f"http://{host}:{ports.get('gateway', 8080)}"
                ),
                "PYTHONUNBUFFERED": "1",
                # A restarted service gets its partitions back within seconds on Tansu.
                "OMNICASE_CONSUMER_SESSION_TIMEOUT_MS": os.environ.get("OMNICASE_CONSUMER_SESSION_TIMEOUT_MS", "3000"),
                "OMNICASE_CONSUMER_HEARTBEAT_INTERVAL_MS": os.environ.get(
                    "OMNICASE_CONSUMER_HEARTBEAT_INTERVAL_MS", "500"
                ),
            }
            env.update({f"{spec.env_prefix}{name.upper()}_PORT": str(port) for name, port in extra.items()})
            if self.admin is not None:
                env.update(self.admin.env())
            self.services.append(ServiceProcess(spec, ports[spec.name], env, extra))

    def _check_ports(self, external_db: bool, external_kafka: bool) -> None:
        host = self.settings.host
        wanted = [(f"{s.spec.name} HTTP", s.port, f"{s.spec.env_prefix}PORT") for s in self.services]
        for service in self.services:
            for name, port in service.extra_ports.items():
                wanted.append(
                    (f"{service.spec.name} {name.upper()}", port, f"{service.spec.env_prefix}{name.upper()}_PORT")
                )
        if not external_db:
            wanted.append(("PostgreSQL", self.settings.postgres_port, "OMNICASE_POSTGRES_PORT"))
        if not external_kafka:
            wanted.append(("Kafka broker", self.settings.kafka_port, "OMNICASE_KAFKA_PORT"))
        busy = [(what, port, setting) for what, port, setting in wanted if port_in_use(host, port)]
        if busy:
            lines = [
                f"  {what}: {host}:{port} is already in use (set {setting} to change it)"
                for what, port, setting in busy
            ]
            raise PortInUse("cannot start: ports in use\n" + "\n".join(lines))

    # -- start ---------------------------------------------------------------------------

    async def up(self) -> int:
        self._claim_pid_file()
        try:
            return await self._up()
        finally:
            await self.down()
            self.pid_file.unlink(missing_ok=True)

    async def _up(self) -> int:
        external_db = os.environ.get("DATABASE_URL")
        external_kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        database_url = normalize_database_url(external_db) if external_db else self._embedded_db_url()
        bootstrap = external_kafka or f"{self.settings.host}:{self.settings.kafka_port}"
        self.admin = bootstrap_admin(self.data_dir)
        self._plan_services(database_url, bootstrap)
        self._check_ports(bool(external_db), bool(external_kafka))
        self.log_dir.mkdir(parents=True, exist_ok=True)

        if not external_db:
            self.say(f"starting PostgreSQL (embedded) on {self.settings.host}:{self.settings.postgres_port} …")
            self.postgres = EmbeddedPostgres(
                self.data_dir / "postgres",
                port=self.settings.postgres_port,
                host=self.settings.host,
                log_file=self.log_dir / "postgres.log",
            )
            await asyncio.to_thread(self.postgres.start)
            await asyncio.to_thread(self.postgres.ensure_database, DATABASE_NAME)
        if not external_kafka:
            self.say(f"starting Kafka-protocol broker (Tansu) on {bootstrap} …")
            self.broker = TansuBroker(
                port=self.settings.kafka_port, host=self.settings.host, log_file=self.log_dir / "tansu.log"
            )
            await asyncio.to_thread(self.broker.start)

        self.say("running migrations …")
        for service in self.services:
            if service.spec.has_migrations():
                await asyncio.to_thread(upgrade, service.spec, database_url)
        created = await ensure_suite_topics(bootstrap, partitions=self.settings.topic_partitions)
        self.say(f"topics ready ({len(created)} created, {self.settings.topic_partitions} partitions each)")

        for service in self.services:
            await self._start(service)
        await self._wait_ready()
        self._print_summary(database_url, bootstrap)

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stopping.set)
        watchers = [asyncio.create_task(self._watch(service)) for service in self.services]
        await self.stopping.wait()
        self.say("stopping …")
        for watcher in watchers:
            watcher.cancel()
        return 0

    def _embedded_db_url(self) -> str:
        return f"postgresql+asyncpg://postgres@{self.settings.host}:{self.settings.postgres_port}/{DATABASE_NAME}"

    async def _start(self, service: ServiceProcess) -> None:
        service.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "omnicase.kit.cli",
            "serve",
            service.spec.name,
            env=service.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
        service.pump = asyncio.create_task(self._pump(service, service.process))

    async def _pump(self, service: ServiceProcess, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        color = _color(service.spec.name)
        prefix = f"{color}{service.spec.name:>12} |{RESET if color else ''} "
        with (self.log_dir / f"{service.spec.name}.log").open("a") as log:
            async for raw in process.stdout:
                line = raw.decode(errors="replace").rstrip()
                log.write(line + "\n")
                print(prefix + line, file=self.out, flush=True)

    async def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.settings.ready_timeout
        async with httpx.AsyncClient(timeout=2.0) as client:
            for service in self.services:
                while True:
                    if service.process is not None and service.process.returncode is not None:
                        raise RuntimeError(
                            f"{service.spec.name} exited with code {service.process.returncode} while starting; "
                            f"see {self.log_dir / (service.spec.name + '.log')}"
                        )
                    with contextlib.suppress(httpx.HTTPError):
                        if (await client.get(service.url + "/readyz")).status_code == 200:
                            break
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{service.spec.name} not ready after {self.settings.ready_timeout:.0f}s")
                    await asyncio.sleep(0.2)

    def _print_summary(self, database_url: str, bootstrap: str) -> None:
        gateway = next((s for s in self.services if s.spec.name == "gateway"), None)
        lines = ["", "Omnicase is up."]
        if gateway is not None:
            lines += [
                f"  Gateway        {gateway.url}",
                f"  API docs       {gateway.url}/docs",
                f"  Readiness      {gateway.url}/readyz",
            ]
            if self.admin is not None and self.admin.generated:
                lines.append(
                    f"  Admin login    {self.admin.email} / {self.admin.password}  (generated, kept in {self.data_dir})"
                )
            elif self.admin is not None:
                lines.append(f"  Admin login    {self.admin.email} (from OMNICASE_BOOTSTRAP_ADMIN_EMAIL/_PASSWORD)")
            lines.append(f"  Web forms      {gateway.url}/public/forms/<form id>  (define them at /api/v1/forms)")
        for service in self.services:
            for name, port in service.extra_ports.items():
                lines.append(f"  {name.upper() + ' intake':<14} {self.settings.host}:{port} ({service.spec.name})")
        for service in self.services:
            if service.spec.name != "gateway":
                lines.append(f"  {service.spec.name:<14} {service.url}")
        lines += [
            f"  PostgreSQL     {database_url.replace('+asyncpg', '')}",
            f"  Kafka          {bootstrap}",
            f"  Data and logs  {self.data_dir}",
            "Press Ctrl-C to stop.",
            "",
        ]
        self.say("\n".join(lines))

    async def _watch(self, service: ServiceProcess) -> None:
        """Restart a service that dies on its own, backing off if it keeps dying."""
        while not self.stopping.is_set():
            assert service.process is not None
            code = await service.process.wait()
            if self.stopping.is_set():
                return
            now = time.monotonic()
            service.restarts = [t for t in service.restarts if now - t < 60] + [now]
            delay = min(30.0, 0.5 * 2 ** (len(service.restarts) - 1))
            self.say(f"{service.spec.name} exited with code {code}; restarting in {delay:.1f}s")
            await asyncio.sleep(delay)
            if not self.stopping.is_set():
                await self._start(service)

    # -- stop ------------------------------------------------------------------------------

    async def down(self) -> None:
        self.stopping.set()
        # Gateway first (stop taking requests), then the rest.
        for service in reversed(self.services):
            process = service.process
            if process is not None and process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
        for service in reversed(self.services):
            process = service.process
            if process is None:
                continue
            try:
                await asyncio.wait_for(process.wait(), timeout=20)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
            if service.pump is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(service.pump, timeout=2)
        if self.broker is not None:
            await asyncio.to_thread(self.broker.stop)
            self.broker = None
        if self.postgres is not None:
            await asyncio.to_thread(self.postgres.stop)
            self.postgres = None
