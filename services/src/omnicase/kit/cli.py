"""The ``omnicase`` command.

- ``omnicase up``: the whole suite on the embedded defaults (see devstack.supervisor).
- ``omnicase migrate``: every installed service's migrations, in start order.
- ``omnicase serve SERVICE``: one service under uvicorn (what containers run).
- ``omnicase topics``: create the suite's topics (dev and tests; Strimzi in production).
- ``omnicase bench``: the kit's throughput beside the raw PostgreSQL and broker ceilings.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from omnicase.kit.settings import SettingsError, normalize_database_url


def _up(_: argparse.Namespace) -> int:
    from omnicase.kit.devstack.processes import PortInUse
    from omnicase.kit.devstack.supervisor import AlreadyRunning, StackSettings, Supervisor

    try:
        settings = StackSettings()
        return asyncio.run(Supervisor(settings).up())
    except (PortInUse, AlreadyRunning) as error:
        print(f"omnicase up: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _migrate(_: argparse.Namespace) -> int:
    from omnicase.kit.migrations import upgrade
    from omnicase.kit.service import discover_services

    url = os.environ.get("DATABASE_URL")
    if not url:
        print("omnicase migrate: set DATABASE_URL (postgresql://user:password@host:port/database)", file=sys.stderr)
        return 2
    for spec in discover_services():
        if spec.has_migrations():
            print(f"migrating {spec.name} (schema {spec.schema}) …", flush=True)
            upgrade(spec, normalize_database_url(url))
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from omnicase.kit.service import get_service, load_app_factory

    spec = get_service(args.service)
    factory = load_app_factory(spec)
    try:
        app = factory()
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    settings = app.state.settings
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=15,
        proxy_headers=False,
    )
    return 0


def _topics(args: argparse.Namespace) -> int:
    from omnicase.kit.bus.admin import ensure_suite_topics

    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
    created = asyncio.run(ensure_suite_topics(servers, partitions=args.partitions))
    print(f"created {len(created)} topics: {', '.join(created) or '-'}")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from omnicase.kit.bench import main as bench_main

    return bench_main(args.events, args.output)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="omnicase", description="Omnicase command line")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="run the whole suite on the embedded defaults").set_defaults(run=_up)
    commands.add_parser("migrate", help="run every service's migrations").set_defaults(run=_migrate)
    serve = commands.add_parser("serve", help="run one service")
    serve.add_argument("service")
    serve.set_defaults(run=_serve)
    topics = commands.add_parser("topics", help="create the suite's topics")
    topics.add_argument("--partitions", type=int, default=4)
    topics.set_defaults(run=_topics)
    bench = commands.add_parser("bench", help="measure the kit against the raw ceilings")
    bench.add_argument("--events", type=int, default=int(os.environ.get("BENCH_EVENTS", "20000")))
    bench.add_argument("--output", default="bench/results")
    bench.set_defaults(run=_bench)
    args = parser.parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
