"""Development commands of ``omnicase``: ``up`` (the whole suite, embedded defaults), ``demo``, ``bench``, ``openapi``.

The kit's CLI finds them through the ``omnicase.commands`` entry point of this distribution,
so ``omnicase`` keeps one command line while a service image carries only the operational commands.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any


def _up(args: argparse.Namespace) -> int:
    from omnicase.devtools.devstack.processes import PortInUse
    from omnicase.devtools.devstack.supervisor import AlreadyRunning, StackSettings, Supervisor

    try:
        settings = StackSettings(follow_logs=True) if args.logs else StackSettings()
        return asyncio.run(Supervisor(settings).up())
    except (PortInUse, AlreadyRunning) as error:
        print(f"omnicase up: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _bench(args: argparse.Namespace) -> int:
    from omnicase.devtools.bench.run import main as bench_main

    return bench_main(args.events, args.output)


def _demo(args: argparse.Namespace) -> int:
    from omnicase.devtools.demo import DemoError, admin_login, run
    from omnicase.devtools.devstack.supervisor import StackSettings

    settings = StackSettings()
    url = args.url or f"http://{settings.host}:{os.environ.get('GATEWAY_PORT', '8080')}"
    try:
        print(run(url.rstrip("/"), *admin_login(settings.data_dir, os.environ)))
    except DemoError as error:
        print(f"omnicase demo: {error}", file=sys.stderr)
        return 1
    return 0


def _openapi(args: argparse.Namespace) -> int:
    from pathlib import Path

    from omnicase.devtools.openapi import write

    write(Path(args.output))
    return 0


def add_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``up``, ``demo``, ``bench`` and ``openapi`` to the ``omnicase`` command line."""
    up = commands.add_parser("up", help="run the whole suite on the embedded defaults")
    up.add_argument(
        "--logs", action="store_true", help="every service's log on the console (otherwise warnings and errors)"
    )
    up.set_defaults(run=_up)
    bench = commands.add_parser("bench", help="measure the kit against the raw ceilings, then the whole suite")
    bench.add_argument("--events", type=int, default=int(os.environ.get("BENCH_EVENTS", "10000")))
    bench.add_argument("--output", default="bench/results")
    bench.set_defaults(run=_bench)
    demo = commands.add_parser("demo", help="a working demo desk on the running suite (twice changes nothing)")
    demo.add_argument("--url", help="the gateway (default: where `omnicase up` puts it)")
    demo.set_defaults(run=_demo)
    openapi = commands.add_parser("openapi", help="write the merged OpenAPI document, as the gateway serves it")
    openapi.add_argument("--output", required=True, help="the JSON file to write")
    openapi.set_defaults(run=_openapi)
