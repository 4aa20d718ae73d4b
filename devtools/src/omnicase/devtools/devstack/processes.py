"""Small process helpers shared by the embedded servers and the supervisor."""

from __future__ import annotations

import contextlib
import ctypes
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

_PR_SET_PDEATHSIG = 1


class PortInUse(RuntimeError):
    pass


def die_with_parent() -> None:
    """``preexec_fn``: the child gets SIGTERM if the process that started it dies (Linux).

    So a supervisor killed with SIGKILL still leaves no orphan behind.
    """
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _drawn_ports() -> range:
    """Where :func:`free_port` draws from: above the ports servers usually default to, below the
    kernel's ephemeral range (Linux: ``ip_local_port_range``, 32768 up by default; macOS and
    Windows start higher). Empty if that range starts lower."""
    first_ephemeral = 32_768
    with contextlib.suppress(OSError, ValueError, IndexError):
        first_ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    # Parallel test workers (pytest-xdist) each draw from their own residue class, so no two
    # hand out one port: a server one worker stops and starts again on its port (a broker
    # restart) would otherwise leave a moment for another worker to draw that port.
    worker, workers = _test_worker()
    return range(20_000 + worker, first_ephemeral, workers)


def _test_worker() -> tuple[int, int]:
    """This process's index among pytest-xdist's workers and their count; (0, 1) outside them."""
    name, count = os.environ.get("PYTEST_XDIST_WORKER", ""), os.environ.get("PYTEST_XDIST_WORKER_COUNT", "")
    if name.startswith("gw") and name[2:].isdigit() and count.isdigit() and int(name[2:]) < int(count):
        return int(name[2:]), int(count)
    return 0, 1


# Every port free_port handed out in this process.
_drawn: set[int] = set()


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now, for a server that a test, bench or stack starts a moment later.

    Never one the kernel would hand out itself: a port taken and released with ``bind(0)`` goes
    back to the ephemeral pool, where any other process's ``bind(0)`` may get it before our server
    binds it. Under parallel test runs a suite's case-core then failed to start while a stranger's
    HTTP server answered on its port (its 200 to ``/readyz`` passed for ready). Drawn at random
    outside that pool, a port can only be taken by another caller of this function; and never
    one this process drew before: a stack draws all its ports before any of its servers listens,
    so two draws of the same number both found it free (the broker and intake-email of one
    e2e stack were given one port: ten draws out of 12,768 ports share one about once in 280).
    """
    ports = _drawn_ports()
    for _ in range(100 if ports else 0):
        port = random.choice(ports)
        if port not in _drawn and not port_in_use(host, port):
            _drawn.add(port)
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def require_free_port(host: str, port: int, what: str, setting: str) -> None:
    if port_in_use(host, port):
        raise PortInUse(
            f"{what} cannot listen on {host}:{port}: the port is already in use. "
            f"Stop whatever holds it (`ss -ltnp 'sport = :{port}'` shows it) or set {setting} to another port."
        )


def wait_for_tcp(host: str, port: int, *, timeout: float, alive: Callable[[], bool]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"process exited before listening on {host}:{port}")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            if sock.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout:.0f}s")


def terminate(process: subprocess.Popen[bytes], *, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
    """Signal a process, wait for it, and kill it if it does not exit in time."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, sig)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        process.wait(5)
