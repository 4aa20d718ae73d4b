"""``omnicase up``: the whole suite on one machine, with nothing to set up.

Starts (unless ``DATABASE_URL`` / ``KAFKA_BOOTSTRAP_SERVERS`` point elsewhere) a
real PostgreSQL and the Tansu broker, migrates every service, creates the topics,
starts every service as its own uvicorn process with the gateway last, waits until
each is ready, prints where everything is, and streams their logs with a service
prefix. A service that crashes is restarted with backoff.

Ctrl-C or SIGTERM stops everything at any moment, start-up included, within seconds:
the services first (all asked at once; their consumers leave their groups while the
broker is still there; killed after :data:`STOP_GRACE`), then the broker, then
PostgreSQL. A second Ctrl-C kills every process at once. Every child runs in a process
group of its own, so a terminal's Ctrl-C reaches only the supervisor, which keeps that
order; children are also tied to the supervisor's life (``PR_SET_PDEATHSIG``), so even
a killed supervisor leaves no process behind.

The embedded PostgreSQL is watched too (:meth:`Supervisor._watch_postgres`): a
postmaster that exits, or stops answering connection probes, is said loudly with the
end of its log and started again on the same data directory, where its own crash
recovery replays the WAL (backing off if it keeps dying). The services are left
running: their pools drop dead connections, their consumers and relays retry, and
their intakes refuse (SMTP 451, HTTP 503) until it is back.

The embedded broker keeps everything in memory, so when it dies its topics, events
and consumer offsets die with it. The supervisor then recovers the suite (see
:meth:`Supervisor._recover_broker`): it stops the services that talk to the broker,
marks every event their outboxes published since the lost broker started for
publication again (:mod:`omnicase.ops.replay`), starts a new broker on the same port
(with backoff), creates the topics, and starts those services again. Their relays
send the replayed events first, in their original order per key; their consumers
join fresh groups and read the new topics from the start; inboxes drop what was
already applied. Nothing is lost and nothing is applied twice. For the same reason a
start with the embedded broker first replays every published row the outboxes still
keep: the previous run's broker took them with it when it stopped.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import httpx
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from omnicase.devtools.devstack.admin import BootstrapAdmin, bootstrap_admin
from omnicase.devtools.devstack.broker import TansuBroker
from omnicase.devtools.devstack.postgres import EmbeddedPostgres
from omnicase.devtools.devstack.processes import PortInUse, die_with_parent, port_in_use
from omnicase.kit.clock import utcnow
from omnicase.kit.db import Database, create_engine
from omnicase.kit.service import ServiceSpec, discover_services
from omnicase.kit.settings import normalize_database_url
from omnicase.ops.migrations import upgrade
from omnicase.ops.replay import replay_suite, services_with_table
from omnicase.ops.topics import ensure_suite_topics

DATABASE_NAME = "omnicase"
RESET = "\033[0m"
# Replays reach this far before the lost broker's start, for clock differences
# between this process and PostgreSQL (which stamps published_at); the inboxes drop the extra.
REPLAY_MARGIN = timedelta(seconds=30)
# How long a service stopped for a broker recovery gets to finish before it is killed:
# with the broker gone its producer would wait out its request timeout for nothing.
RECOVERY_STOP_GRACE = 2.0
# How long the services get to stop on Ctrl-C before they are killed: enough for consumers
# to leave their groups, short enough that the whole stop stays within five seconds.
STOP_GRACE = 2.0
# A second Ctrl-C kills everything at once; one within this many seconds of the first is the same one.
REPEATED_SIGNAL_WINDOW = 0.05
# How long PostgreSQL gets for its fast shutdown on Ctrl-C before it is killed (its next
# start then replays the WAL, as after any crash).
POSTGRES_STOP_GRACE = 2.0
# The PostgreSQL watch: a connection probe this often, each allowed this long; this many
# unanswered in a row (the postmaster alive but not answering) and it is restarted.
POSTGRES_PROBE_INTERVAL = 2.0
POSTGRES_PROBE_TIMEOUT = 3
POSTGRES_UNRESPONSIVE_PROBES = 4
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class StackSettings(BaseSettings):
    """How `omnicase up` lays the stack out (environment variables prefixed ``OMNICASE_``)."""

    model_config = SettingsConfigDict(env_prefix="OMNICASE_", extra="ignore")

    data_dir: Path = Path(".data")
    host: str = "127.0.0.1"
    postgres_port: int = Field(default=55432, ge=1, le=65535)
    kafka_port: int = Field(default=19092, ge=1, le=65535)
    topic_partitions: int = Field(default=4, ge=1, le=256)
    ready_timeout: float = Field(default=90.0, gt=0)
    # Every service's log line on the console (`omnicase up --logs`); otherwise only their
    # warnings and errors, the full logs being in <data_dir>/logs/<service>.log either way.
    follow_logs: bool = False
    # Processes per service (OMNICASE_PROCESSES='{"case-core": 2}'); unnamed services get
    # default_processes() for this machine's cores.
    processes: dict[str, int] = Field(default_factory=dict)

    def processes_of(self, service: str) -> int:
        return max(1, self.processes.get(service, default_processes()))


def default_processes(cores: int | None = None) -> int:
    """Processes per service for ``cores`` CPUs: one on a laptop-sized machine, more where cores are idle.

    Every service's work is CPU-bound Python on one event loop; a second process of a
    service only helps when a core would otherwise wait, so with two cores (six services,
    PostgreSQL and the broker already share them) one each is best; beyond that, one
    process per two cores, at most four.
    """
    cores = cores or os.cpu_count() or 1
    return 1 if cores <= 2 else min(4, cores // 2)


@dataclass
class ServiceProcess:
    """One process of a service; a service's processes share its ports (SO_REUSEPORT) and its consumer groups."""

    spec: ServiceSpec
    port: int
    env: dict[str, str]
    extra_ports: dict[str, int] = field(default_factory=dict)  # e.g. {"smtp": 2525}
    replica: int = 0
    process: asyncio.subprocess.Process | None = None
    restarts: list[float] = field(default_factory=list)
    pump: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.env['OMNICASE_HOST']}:{self.port}"

    @property
    def name(self) -> str:
        """``case-core``, or ``case-core#2`` for its second process."""
        return self.spec.name if self.replica == 0 else f"{self.spec.name}#{self.replica + 1}"


class AlreadyRunning(RuntimeError):
    pass


def _color(name: str) -> str:
    if not sys.stdout.isatty():
        return ""
    return f"\033[{31 + sum(map(ord, name)) % 6}m"


_QUIET_LEVELS = frozenset({"debug", "info"})


def _worth_a_look(line: str) -> bool:
    """Whether a service's log line belongs on the console without ``--logs``: warnings, errors, and
    anything that is not one of its JSON log lines (a crash's traceback, a library's own print)."""
    if not line.startswith("{"):
        return bool(line.strip())
    try:
        level = json.loads(line).get("level")
    except (ValueError, AttributeError):
        return True
    return level not in _QUIET_LEVELS


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
        self.database_url = ""
        self.bootstrap = ""
        self.watchers: dict[str, asyncio.Task[None]] = {}
        self.broker_started_at: datetime | None = None
        self.broker_restarts: list[float] = []
        self.broker_clients: list[ServiceProcess] = []  # the services that must restart with the broker
        self.postgres_restarts: list[float] = []
        self.signals = 0
        self.first_signal_at = 0.0
        self.main: asyncio.Task[Any] | None = None

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
                # A satisfaction survey's links point at the public entry too.
                "CASE_CORE_PUBLIC_BASE_URL": os.environ.get(
                    "CASE_CORE_PUBLIC_BASE_URL", f"http://{host}:{ports.get('gateway', 8080)}"
                ),
                # So do suggested articles' links to the help center.
                "KNOWLEDGE_PUBLIC_BASE_URL": os.environ.get(
                    "KNOWLEDGE_PUBLIC_BASE_URL", f"http://{host}:{ports.get('gateway', 8080)}"
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
            processes = self.settings.processes_of(spec.name)
            if processes > 1:
                env[f"{spec.env_prefix}SHARED_PORT"] = "true"
            for replica in range(processes):
                self.services.append(ServiceProcess(spec, ports[spec.name], env, extra, replica))

    def _check_ports(self, external_db: bool, external_kafka: bool) -> None:
        host = self.settings.host
        firsts = [s for s in self.services if s.replica == 0]
        wanted = [(f"{s.spec.name} HTTP", s.port, f"{s.spec.env_prefix}PORT") for s in firsts]
        for service in firsts:
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
        # From the first moment: a stop asked for during start-up abandons the start-up.
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._on_signal)
        self.main = asyncio.current_task()
        try:
            return await self._up()
        except asyncio.CancelledError:
            if self.signals == 0 or self.main is None:
                raise
            self.main.uncancel()  # asked for: a clean stop, not a cancelled run
            return 0
        finally:
            self.main = None
            await self.down()
            self.pid_file.unlink(missing_ok=True)

    def _on_signal(self) -> None:
        """First Ctrl-C/SIGTERM: stop in order (abandoning the start-up); a second one: kill everything now."""
        now = time.monotonic()
        if self.signals and now - self.first_signal_at < REPEATED_SIGNAL_WINDOW:
            # The same Ctrl-C seen twice: a child forked that instant (before it left our process
            # group and exec'd) shares our signal wake-up pipe and reports the signal too.
            return
        self.signals += 1
        if self.signals > 1:
            self._kill_everything()
            return
        self.first_signal_at = now
        if self.stopping.is_set():
            return  # already on the way down
        self.stopping.set()
        self.say("stopping … (Ctrl-C again to kill everything at once)")
        if self.main is not None:
            self.main.cancel()

    def _kill_everything(self) -> None:
        self.say("killing every process now")
        # Each child leads its own process group: one killpg reaches it and whatever it started.
        pids = [s.process.pid for s in self.services if s.process is not None and s.process.returncode is None]
        if self.broker is not None and self.broker.process is not None:
            pids.append(self.broker.process.pid)
        if self.postgres is not None:
            self.postgres.abort()
            if self.postgres.process is not None:
                pids.append(self.postgres.process.pid)  # its next start recovers from the WAL
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        # Reaped before we go: an unreaped postmaster would still "run" for the next start's lock check.
        for pid in pids:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        self.pid_file.unlink(missing_ok=True)
        # Threads (a migration, a PostgreSQL start) would hold a normal exit up; nothing is left to wait for.
        os._exit(130)

    async def _up(self) -> int:
        external_db = os.environ.get("DATABASE_URL")
        external_kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        database_url = normalize_database_url(external_db) if external_db else self._embedded_db_url()
        bootstrap = external_kafka or f"{self.settings.host}:{self.settings.kafka_port}"
        self.database_url, self.bootstrap = database_url, bootstrap
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
            await self._start_broker()

        self.say("running migrations …")
        for service in self.services:
            if service.spec.has_migrations():
                await asyncio.to_thread(upgrade, service.spec, database_url)
        created = await ensure_suite_topics(bootstrap, partitions=self.settings.topic_partitions)
        self.say(f"topics ready ({len(created)} created, {self.settings.topic_partitions} partitions each)")
        if self.broker is not None:
            self.broker_clients = await self._broker_clients()
            # A new embedded broker is empty: what the last run's broker held and no consumer
            # had read yet would be lost. The outboxes still have it; send it again first.
            replays = await replay_suite(database_url, [service.spec for service in self.broker_clients], EPOCH)
            if replayed := sum(replay.result.rows for replay in replays):
                self.say(f"publishing again {replayed} event(s) the previous run's broker held")

        if self.postgres is not None:
            # From here on the services depend on it; a PostgreSQL lost while they start is restarted too.
            self.watchers["postgres"] = asyncio.create_task(self._watch_postgres())
        for service in self.services:
            await self._start(service)
        await self._wait_ready()
        self._print_summary(database_url, bootstrap)

        for service in self.services:
            self._start_watch(service)
        if self.broker is not None:
            self.watchers["broker"] = asyncio.create_task(self._watch_broker())
        await self.stopping.wait()
        return 0

    def _embedded_db_url(self) -> str:
        return f"postgresql+asyncpg://postgres@{self.settings.host}:{self.settings.postgres_port}/{DATABASE_NAME}"

    async def _start(self, service: ServiceProcess) -> None:
        spawn = asyncio.ensure_future(
            asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "omnicase.cli",
                "serve",
                service.spec.name,
                env=service.env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                preexec_fn=die_with_parent,
                process_group=0,  # a terminal's Ctrl-C is the supervisor's: it stops things in order
            )
        )
        process: asyncio.subprocess.Process | None = None
        try:
            process = await asyncio.shield(spawn)
        except asyncio.CancelledError:
            # Stopped while spawning: keep hold of the process so the stop reaches it too.
            with contextlib.suppress(Exception):
                process = await spawn
            raise
        finally:
            if process is not None:
                service.process = process
                service.pump = asyncio.create_task(self._pump(service, process))

    async def _pump(self, service: ServiceProcess, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        color = _color(service.spec.name)
        prefix = f"{color}{service.name:>12} |{RESET if color else ''} "
        # Line-buffered: a developer tailing the file sees each line as it comes.
        with (self.log_dir / f"{service.spec.name}.log").open("a", buffering=1) as log:
            async for raw in process.stdout:
                line = raw.decode(errors="replace").rstrip()
                log.write(line + "\n")
                if self.settings.follow_logs or _worth_a_look(line):
                    print(prefix + line, file=self.out, flush=True)

    async def _wait_ready(self, services: list[ServiceProcess] | None = None) -> None:
        deadline = time.monotonic() + self.settings.ready_timeout
        async with httpx.AsyncClient(timeout=2.0) as client:
            for service in self.services if services is None else services:
                while True:
                    if service.process is not None and service.process.returncode is not None:
                        raise RuntimeError(
                            f"{service.name} exited with code {service.process.returncode} while starting; "
                            f"see {self.log_dir / (service.spec.name + '.log')}"
                        )
                    with contextlib.suppress(httpx.HTTPError):
                        if (await client.get(service.url + "/readyz")).status_code == 200:
                            break
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{service.name} not ready after {self.settings.ready_timeout:.0f}s")
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
        firsts = [service for service in self.services if service.replica == 0]
        for service in firsts:
            for name, port in service.extra_ports.items():
                lines.append(f"  {name.upper() + ' intake':<14} {self.settings.host}:{port} ({service.spec.name})")
        for service in firsts:
            if service.spec.name != "gateway":
                processes = self.settings.processes_of(service.spec.name)
                lines.append(
                    f"  {service.spec.name:<14} {service.url}" + (f"  ({processes} processes)" * (processes > 1))
                )
        lines += [
            f"  PostgreSQL     {database_url.replace('+asyncpg', '')}",
            f"  Kafka          {bootstrap}",
            f"  Data and logs  {self.data_dir}"
            + ("" if self.settings.follow_logs else "  (every service's log on this console: omnicase up --logs)"),
            "Press Ctrl-C to stop.",
            "",
        ]
        self.say("\n".join(lines))

    def _start_watch(self, service: ServiceProcess) -> None:
        self.watchers[service.name] = asyncio.create_task(self._watch(service))

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
            self.say(f"{service.name} exited with code {code}; restarting in {delay:.1f}s")
            await asyncio.sleep(delay)
            if not self.stopping.is_set():
                await self._start(service)

    # -- PostgreSQL -------------------------------------------------------------------------

    async def _watch_postgres(self) -> None:
        """Restart the embedded PostgreSQL when it dies or stops answering."""
        unanswered = 0
        next_probe = 0.0
        while not self.stopping.is_set():
            await asyncio.sleep(0.2)
            postgres = self.postgres
            if postgres is None or postgres.process is None:
                continue
            code = postgres.process.poll()
            if code is not None:
                reason = f"exited with code {code}"
            else:
                if time.monotonic() < next_probe:
                    continue
                next_probe = time.monotonic() + POSTGRES_PROBE_INTERVAL
                if await self._postgres_answers(postgres):
                    unanswered = 0
                    continue
                unanswered += 1
                if unanswered < POSTGRES_UNRESPONSIVE_PROBES:
                    continue
                reason = f"stopped answering ({unanswered} connection probes of {POSTGRES_PROBE_TIMEOUT}s in a row)"
            unanswered = 0
            try:
                await self._recover_postgres(postgres, reason)
            except Exception as error:  # never leave the stack without a database watch
                self.say(f"!!! PostgreSQL recovery failed: {error!r}")

    @staticmethod
    async def _postgres_answers(postgres: EmbeddedPostgres) -> bool:
        """Whether the postmaster answers a connection: accepting, or refusing while it starts up."""
        probe = await asyncio.create_subprocess_exec(
            *postgres.probe_command(POSTGRES_PROBE_TIMEOUT),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            code = await asyncio.wait_for(probe.wait(), POSTGRES_PROBE_TIMEOUT + 2)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                probe.kill()
            await probe.wait()
            return False
        return code in (0, 1)

    async def _recover_postgres(self, postgres: EmbeddedPostgres, reason: str) -> None:
        """Start PostgreSQL again on the same data directory, backing off if it keeps dying.

        The services keep running: a request or batch that needs the database fails and is
        refused or retried (SMTP 451, HTTP 503, consumers back off), their pools replace the
        dead connections once it is back, and crash recovery replays the WAL, so everything
        committed (everything a client saw acknowledged) is still there.
        """
        self.say(
            f"!!! PostgreSQL {reason}. Until it is back every service fails on its database: the intakes "
            "refuse (SMTP 451, HTTP 503) and nothing is acknowledged that is not stored. Restarting it on "
            f"{postgres.data_dir} (its crash recovery replays the WAL) …"
        )
        self._say_postgres_log(postgres)
        # A hung postmaster is killed with every backend; a dead one is reaped.
        await asyncio.to_thread(postgres.kill_all)
        await asyncio.to_thread(postgres.kill)
        while not self.stopping.is_set():
            now = time.monotonic()
            self.postgres_restarts = [t for t in self.postgres_restarts if now - t < 60] + [now]
            delay = min(30.0, 0.5 * 2 ** (len(self.postgres_restarts) - 1))
            self.say(f"restarting PostgreSQL on {self.settings.host}:{self.settings.postgres_port} in {delay:.1f}s")
            await asyncio.sleep(delay)
            if self.stopping.is_set():
                return
            try:
                await asyncio.to_thread(postgres.start)
            except Exception as error:
                self.say(f"!!! PostgreSQL did not come back: {str(error).splitlines()[0]}")
                self._say_postgres_log(postgres)
                await asyncio.to_thread(postgres.kill_all)
                await asyncio.to_thread(postgres.kill)
                continue
            self.say(
                f"PostgreSQL is back on {self.settings.host}:{self.settings.postgres_port}; "
                "the services reconnect on their own"
            )
            try:
                await self._wait_ready()
            except (RuntimeError, TimeoutError) as error:
                self.say(f"!!! after the PostgreSQL restart: {error}")
                return
            self.say("PostgreSQL recovered: every service is ready again")
            return

    def _say_postgres_log(self, postgres: EmbeddedPostgres, lines: int = 8) -> None:
        tail = postgres.log_tail(lines)
        if tail:
            self.say(f"  the end of {postgres.log_file}:\n" + "\n".join(f"    {line}" for line in tail.splitlines()))

    # -- the broker ---------------------------------------------------------------------

    async def _start_broker(self) -> None:
        self.broker = TansuBroker(
            port=self.settings.kafka_port, host=self.settings.host, log_file=self.log_dir / "tansu.log"
        )
        # Taken before it listens: anything published to it happens after this moment.
        self.broker_started_at = utcnow()
        await asyncio.to_thread(self.broker.start)

    async def _broker_clients(self) -> list[ServiceProcess]:
        """The services with a kit outbox or inbox: those whose relay or consumers use the broker."""
        engine = create_engine(self.database_url, pool_size=1)
        try:
            database = Database(engine)
            specs = list({service.spec.name: service.spec for service in self.services}.values())
            using = {
                spec.name for table in ("outbox", "inbox") for spec in await services_with_table(database, specs, table)
            }
        finally:
            await engine.dispose()
        return [service for service in self.services if service.spec.name in using]

    async def _watch_broker(self) -> None:
        while not self.stopping.is_set():
            await asyncio.sleep(0.2)
            broker = self.broker
            if broker is not None and broker.process is not None and broker.process.poll() is not None:
                try:
                    await self._recover_broker(broker.process.returncode)
                except Exception as error:  # never leave the stack without a broker watch
                    self.say(f"!!! broker recovery failed: {error!r}")

    async def _recover_broker(self, code: int | None) -> None:
        """Bring a new, empty broker up and publish again everything the lost one held.

        Order matters. The services are stopped first, so no relay batch is in flight and
        no consumer keeps a read position from the old log (on a new log that has grown
        past it, it would silently skip records). The outboxes are replayed before the
        new broker exists, so the replayed rows precede any newer row of the same key.
        """
        lost_since = (self.broker_started_at or utcnow()) - REPLAY_MARGIN
        self.say(
            f"!!! Kafka broker (Tansu) exited with code {code}. It kept everything in memory: its topics, "
            "events and consumer offsets are gone. Recovering: stopping "
            f"{', '.join(s.name for s in self.broker_clients) or 'no services'}, replaying outboxes since "
            f"{lost_since.isoformat(timespec='seconds')}, restarting the broker …"
        )
        self.broker = None
        for service in self.broker_clients:
            watcher = self.watchers.pop(service.name, None)
            if watcher is not None:
                watcher.cancel()
        await asyncio.gather(*(self._stop_service(service, RECOVERY_STOP_GRACE) for service in self.broker_clients))
        replayed = await self._replay_until_done(lost_since)
        if replayed is None:
            return
        if not await self._restart_broker_until_up():
            return
        for service in self.broker_clients:
            await self._start(service)
            self._start_watch(service)
        try:
            await self._wait_ready(self.broker_clients)
        except (RuntimeError, TimeoutError) as error:
            # The watchers restart a service that fails to come back; say so and carry on.
            self.say(f"!!! after the broker restart: {error}")
            return
        self.say(
            f"Kafka broker recovered on {self.bootstrap}: {replayed} events published again from the outboxes, "
            f"{', '.join(s.name for s in self.broker_clients)} restarted"
        )

    async def _replay_until_done(self, since: datetime) -> int | None:
        """Events marked for publication again, retrying while PostgreSQL is unreachable; None if stopping."""
        delay = 0.5
        specs = list({service.spec.name: service.spec for service in self.broker_clients}.values())
        while not self.stopping.is_set():
            try:
                replays = await replay_suite(self.database_url, specs, since)
            except Exception as error:
                self.say(f"!!! outbox replay failed ({error!r}); retrying in {delay:.1f}s")
                await asyncio.sleep(delay)
                delay = min(30.0, delay * 2)
                continue
            for replay in replays:
                self.say(f"  {replay.service}: {replay.result.rows} events to publish again")
            return sum(replay.result.rows for replay in replays)
        return None

    async def _restart_broker_until_up(self) -> bool:
        """A new broker on the same port with the suite's topics, backing off if it keeps dying."""
        while not self.stopping.is_set():
            now = time.monotonic()
            self.broker_restarts = [t for t in self.broker_restarts if now - t < 60] + [now]
            delay = min(30.0, 0.5 * 2 ** (len(self.broker_restarts) - 1))
            self.say(f"restarting the Kafka broker (Tansu) on {self.bootstrap} in {delay:.1f}s")
            await asyncio.sleep(delay)
            if self.stopping.is_set():
                break
            try:
                await self._start_broker()
                created = await ensure_suite_topics(self.bootstrap, partitions=self.settings.topic_partitions)
            except Exception as error:
                self.say(f"!!! the Kafka broker did not come back: {error!r}")
                if self.broker is not None:
                    await asyncio.to_thread(self.broker.kill)
                    self.broker = None
                continue
            self.say(f"Kafka broker restarted; topics ready ({len(created)} created)")
            return True
        return False

    async def _stop_service(self, service: ServiceProcess, grace: float) -> None:
        self._terminate(service)
        await self._reap(service, grace)

    @staticmethod
    def _terminate(service: ServiceProcess) -> None:
        # Once only: a second SIGTERM makes uvicorn skip its graceful shutdown.
        process = service.process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)

    @staticmethod
    async def _reap(service: ServiceProcess, grace: float) -> None:
        """Wait for a terminated service, killing it after ``grace`` seconds, and drain its log pump."""
        process = service.process
        if process is None:
            return
        try:
            await asyncio.wait_for(process.wait(), timeout=grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
        if service.pump is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(service.pump, timeout=2)

    # -- stop ------------------------------------------------------------------------------

    async def down(self) -> None:
        """Services, then the broker, then PostgreSQL: whatever state each is in, within seconds.

        The services go first, all asked at once (gateway first, so it stops taking
        requests), while the broker and the database they use are still there: their
        consumers leave their groups and their last transactions end, instead of
        reconnecting to servers that vanished. One that has not exited after
        :data:`STOP_GRACE` (still starting, say) is killed; nothing it had not committed
        was acknowledged to anyone.
        """
        self.stopping.set()
        for watcher in self.watchers.values():
            watcher.cancel()
        if self.postgres is not None:
            self.postgres.abort()  # a start in progress on a thread ends now
        for service in reversed(self.services):
            self._terminate(service)
        await asyncio.gather(*(self._reap(service, STOP_GRACE) for service in reversed(self.services)))
        if self.broker is not None:
            await asyncio.to_thread(self.broker.stop, 2.0)
            self.broker = None
        if self.postgres is not None:
            await asyncio.to_thread(self.postgres.stop, POSTGRES_STOP_GRACE)
            self.postgres = None
