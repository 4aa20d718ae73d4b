"""The development commands of ``omnicase``: ``up`` (the whole suite on the embedded defaults) and ``bench``.

The kit's CLI finds them through the ``omnicase.commands`` entry point of this distribution,
so ``omnicase`` keeps one command line while a service image carries only the operational commands.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any


def _up(_: argparse.Namespace) -> int:
    from omnicase.devtools.devstack.processes import PortInUse
    from omnicase.devtools.devstack.supervisor import AlreadyRunning, StackSettings, Supervisor

    try:
        settings = StackSettings()
        return asyncio.run(Supervisor(settings).up())
    except (PortInUse, AlreadyRunning) as error:
        print(f"omnicase up: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _bench(args: argparse.Namespace) -> int:
    from omnicase.devtools.bench.run import main as bench_main

    return bench_main(args.events, args.output)


def add_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``up`` and ``bench`` to the ``omnicase`` command line."""
    commands.add_parser("up", help="run the whole suite on the embedded defaults").set_defaults(run=_up)
    bench = commands.add_parser("bench", help="measure the kit against the raw ceilings, then the whole suite")
    bench.add_argument("--events", type=int, default=int(os.environ.get("BENCH_EVENTS", "10000")))
    bench.add_argument("--output", default="bench/results")
    bench.set_defaults(run=_bench)
