"""The ``omnicase bench`` run: fresh servers, each measurement in order, the table and its JSON."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from omnicase.devtools.bench.ceilings import broker_ceiling, postgres_ceiling
from omnicase.devtools.bench.config import BENCH_DATABASE, SOURCE, BenchConfig, BenchError
from omnicase.devtools.bench.machine import describe_machine
from omnicase.devtools.bench.measure import Measurement
from omnicase.devtools.bench.pipeline import case_updated, kit_pipeline
from omnicase.devtools.bench.report import Report
from omnicase.devtools.bench.services import ServiceBench, discover_benches, run_service_bench
from omnicase.devtools.devstack.broker import TansuBroker
from omnicase.devtools.devstack.postgres import EmbeddedPostgres
from omnicase.devtools.devstack.processes import free_port

if TYPE_CHECKING:
    # The suite's bench imports this package; at run time it is imported where it is used.
    from omnicase.devtools.bench.suite.run import SuiteBenchConfig

T = TypeVar("T")


async def _run_all(
    config: BenchConfig,
    postgres: EmbeddedPostgres,
    broker: TansuBroker,
    report: Report,
    suite: SuiteBenchConfig | None = None,
) -> None:
    loop = asyncio.get_running_loop()
    report.machine["event_loop"] = type(loop).__module__.split(".")[0]
    task = asyncio.current_task()

    def interrupted() -> None:
        # Ctrl-C reaches the servers too (same process group): what the clients log while
        # they wind down against dying servers is noise, not a finding.
        logging.disable(logging.CRITICAL)
        if task is not None:
            task.cancel()

    for signum in (signal.SIGINT, signal.SIGTERM):
        # No loop signal handlers off Unix or off the main thread: Ctrl-C then arrives as
        # KeyboardInterrupt, which main() handles the same way.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, interrupted)
    sample = case_updated(uuid.uuid4(), 1).envelope(source=SOURCE, subject=str(uuid.uuid4()))
    dsn = f"postgresql://postgres@{postgres.host}:{postgres.port}/{BENCH_DATABASE}"

    async def database_phase() -> list[Measurement]:
        return [await postgres_ceiling(config, dsn, sample.to_bytes())]

    async def broker_phase() -> list[Measurement]:
        return await broker_ceiling(config, broker.bootstrap_servers, sample)

    async def kit_phase() -> list[Measurement]:
        run = await kit_pipeline(config, postgres.url(BENCH_DATABASE), broker.bootstrap_servers)
        report.diagnostics = run.diagnostics
        return run.measurements

    def service_phase(name: str, bench: ServiceBench) -> Callable[[], Coroutine[Any, Any, list[Measurement]]]:
        async def phase() -> list[Measurement]:
            return await run_service_bench(name, bench, postgres, broker.bootstrap_servers)

        return phase

    phases: list[tuple[str, Callable[[], Coroutine[Any, Any, list[Measurement]]]]] = [
        ("PostgreSQL ceiling (single-row INSERT transactions)", database_phase),
        ("broker ceiling (produce + consume)", broker_phase),
        ("kit (outbox -> relay -> broker -> idempotent consumer)", kit_phase),
    ]
    phases += [(f"{name} (its own bench)", service_phase(name, bench)) for name, bench in discover_benches()]
    if suite is not None:

        async def suite_phase() -> list[Measurement]:
            from omnicase.devtools.bench.suite.run import suite_bench

            run = await suite_bench(
                suite,
                postgres,
                broker.bootstrap_servers,
                stall_timeout=config.stall_timeout,
                say=lambda line: print(line, flush=True),
            )
            report.diagnostics["suite"] = run.diagnostics
            return run.measurements

        phases.append(("the whole suite under intake and console load (omnicase up)", suite_phase))
    for title, phase in phases:
        print(f"- {title} …", flush=True)
        started = time.perf_counter()
        try:
            measured = await phase()
        except BenchError:
            raise
        except Exception as error:
            raise BenchError(f"{title} failed: {type(error).__name__}: {error}") from error
        report.measurements += measured
        print(f"  done in {time.perf_counter() - started:.1f}s", flush=True)


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop when installed, the loop uvicorn gives the services."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)


# -- entry point ----------------------------------------------------------------------------


class _RepeatFilter(logging.Filter):
    """Let each distinct message through a few times: a dead broker makes aiokafka repeat itself per record."""

    def __init__(self, limit: int = 3) -> None:
        super().__init__()
        self.limit = limit
        self.seen: dict[tuple[str, str], int] = {}
        self.dropped = 0

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg))
        self.seen[key] = self.seen.get(key, 0) + 1
        if self.seen[key] > self.limit:
            self.dropped += 1
            return False
        return True


def _log_to_stderr() -> _RepeatFilter | None:
    """Warnings and errors of the kit and its clients on stderr, unless the caller set up logging."""
    root = logging.getLogger()
    if root.handlers:
        return None
    repeats = _RepeatFilter()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(repeats)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    return repeats


def main(events: int, output: str) -> int:
    """``omnicase bench``: run every measurement on fresh servers; 0 on success, 1 if one failed."""
    from omnicase.devtools.bench.suite.run import SuiteBenchConfig

    try:
        config = BenchConfig.from_env(events, output)
        suite = SuiteBenchConfig.from_env()
    except BenchError as error:
        print(f"omnicase bench: {error}", file=sys.stderr)
        return 2
    repeats = _log_to_stderr()

    root = Path(tempfile.mkdtemp(prefix="omnicase-bench-"))
    postgres = EmbeddedPostgres(root / "data", port=free_port(), log_file=root / "postgres.log", durable=True)
    broker = TansuBroker(port=free_port(), log_file=root / "tansu.log")
    started = time.perf_counter()
    report: Report | None = None
    failure: str | None = None
    try:
        print(f"omnicase bench: starting PostgreSQL (durable) and Tansu in {root} …", flush=True)
        postgres.start()
        broker.start()
        postgres.ensure_database(BENCH_DATABASE)
        report = Report(config, describe_machine(postgres), datetime.now(UTC))
        _run(_run_all(config, postgres, broker, report, suite))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("omnicase bench: interrupted; servers stopped, nothing written", file=sys.stderr)
        return 130
    except BenchError as error:
        failure = str(error)
    except Exception as error:
        failure = f"{type(error).__name__}: {error}"
    finally:
        if failure is not None:
            _print_logs(postgres, root)
        broker.stop()
        postgres.stop()
        shutil.rmtree(root, ignore_errors=True)
        if repeats is not None:
            if repeats.dropped:
                print(f"({repeats.dropped} repeated log lines not shown)", file=sys.stderr)
            # Clients dropped mid-failure log again when collected at exit; the verdict below says it all.
            logging.disable(logging.CRITICAL)
    if failure is not None or report is None:
        print(f"omnicase bench failed: {failure}", file=sys.stderr)
        return 1

    report.seconds = time.perf_counter() - started
    print()
    print(report.table())
    print(f"\ntotal run time {report.seconds:.1f}s (server start and stop included)")
    try:
        config.output.mkdir(parents=True, exist_ok=True)
        path = config.output / f"kit-{report.started_at.strftime('%Y%m%dT%H%M%SZ')}.json"
        path.write_text(json.dumps(report.as_json(), indent=2) + "\n")
    except OSError as error:
        print(f"omnicase bench: could not write the results to {config.output}: {error}", file=sys.stderr)
        return 1
    print(f"results written to {path}")
    return 0


def _print_logs(postgres: EmbeddedPostgres, root: Path) -> None:
    tail = postgres.log_tail(10)
    if tail:
        print(f"--- PostgreSQL log (last lines) ---\n{tail}", file=sys.stderr)
    with contextlib.suppress(OSError):
        lines = (root / "tansu.log").read_text(errors="replace").splitlines()[-10:]
        if lines:
            print("--- Tansu log (last lines) ---\n" + "\n".join(lines), file=sys.stderr)
