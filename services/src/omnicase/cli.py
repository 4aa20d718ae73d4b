"""The ``omnicase`` command.

- ``omnicase migrate``: every installed service's migrations, in start order.
- ``omnicase serve SERVICE``: one service under uvicorn (what containers run).
- ``omnicase topics``: create the suite's topics (dev and tests; Strimzi in production).
- ``omnicase outbox replay --since 1h [--service X] [--dry-run]``: publish again what the
  services published since then, after a broker lost data (see :mod:`omnicase.ops.replay`).
- ``omnicase status [--url service=URL]``: each service's readiness, outbox backlog, and per
  consumer group its lag and dead letters, from its own ``/readyz`` and ``/metrics``
  (:mod:`omnicase.status`); exit status 1 when one is not ready.
- ``omnicase keygen``: a new master key for secrets sealed at rest (:mod:`omnicase.kit.sealing`).
- ``omnicase dlq list TOPIC`` / ``omnicase dlq replay TOPIC [--dry-run]``: the messages
  consumers gave up on, with why; send them back once the cause is fixed (:mod:`omnicase.ops.dead_letters`).

Packages add commands through the ``omnicase.commands`` entry-point group: a callable given
the subparsers, which adds its own (omnicase-devtools adds ``up`` and ``bench``).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import socket
import sys
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from omnicase.kit.settings import SettingsError, normalize_database_url

if TYPE_CHECKING:
    import uvicorn

COMMANDS_ENTRY_POINT_GROUP = "omnicase.commands"


def _migrate(_: argparse.Namespace) -> int:
    from omnicase.kit.service import discover_services
    from omnicase.ops.migrations import upgrade

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
    tune_garbage_collector()
    # Several processes of one service share its port: the kernel spreads connections among them.
    listener = socket.create_server((settings.host, settings.port), reuse_port=settings.shared_port, backlog=2048)
    uvicorn.Server(server_config(app)).run(sockets=[listener])
    return 0


# A young collection every 50,000 allocations rather than 700: fewer objects caught alive in flight are
# moved to the oldest generation, whose growth is what brings on a full collection.
COLLECTOR_THRESHOLDS = (50_000, 20, 10)


def tune_garbage_collector() -> None:
    """Take what the imports and the app made (most of the process's objects, kept for its life) out of the
    cyclic collector's sight, and collect the young less often: a full collection stops every request and
    socket of the process while it scans all it tracks, which with 2,000 widget sockets open took 0.4-0.8 s
    every 5-10 s (the widget bench's reply p99 was those pauses); with both, none came in the whole bench."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)


# A client must drop an idle connection before the server does: one the server closes as the
# client sends on it is a request lost in flight (the gateway answered 503). httpx keeps idle
# connections 5 s, as uvicorn did; load balancers 60 s (AWS's default idle timeout).
KEEP_ALIVE_SECONDS = 75


def server_config(app: Any) -> uvicorn.Config:
    """How ``omnicase serve`` runs a service's app."""
    import uvicorn

    return uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=15,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        proxy_headers=False,
    )


def _topics(args: argparse.Namespace) -> int:
    from omnicase.ops.topics import ensure_suite_topics

    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
    created = asyncio.run(ensure_suite_topics(servers, partitions=args.partitions))
    print(f"created {len(created)} topics: {', '.join(created) or '-'}")
    return 0


def _outbox_replay(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from omnicase.kit.service import discover_services
    from omnicase.ops.replay import ReplayError, describe, parse_since, replay_suite, select_services

    try:
        since = parse_since(args.since)
        specs = select_services(discover_services(), args.service)
    except ReplayError as error:
        print(f"omnicase outbox replay: {error}", file=sys.stderr)
        return 2
    url = os.environ.get("DATABASE_URL")
    if not url:
        print(
            "omnicase outbox replay: set DATABASE_URL (postgresql://user:password@host:port/database)", file=sys.stderr
        )
        return 2
    try:
        replays = asyncio.run(
            replay_suite(
                normalize_database_url(url), specs, since, require_outbox=bool(args.service), dry_run=args.dry_run
            )
        )
    except ReplayError as error:
        print(f"omnicase outbox replay: {error}", file=sys.stderr)
        return 2
    except (OSError, SQLAlchemyError) as error:
        # Each outbox is replayed in one transaction, so running it again is safe: consumers drop repeats.
        print(f"omnicase outbox replay: the database failed ({error}); run it again once it is back", file=sys.stderr)
        return 1
    print("\n".join(describe(replays, since, dry_run=args.dry_run)))
    return 0


def _dlq(args: argparse.Namespace) -> int:
    from aiokafka.errors import KafkaError

    from omnicase.ops.dead_letters import DeadLetterError, read_dead_letters, replay_dead_letters

    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
    prefix = os.environ.get("OMNICASE_TOPIC_PREFIX", "")
    try:
        if args.dlq_command == "list":
            letters = asyncio.run(read_dead_letters(servers, args.topic, prefix=prefix))
        else:
            letters = asyncio.run(replay_dead_letters(servers, args.topic, prefix=prefix, dry_run=args.dry_run))
    except DeadLetterError as error:
        print(f"omnicase dlq: {error}", file=sys.stderr)
        return 2
    except (KafkaError, OSError) as error:
        print(f"omnicase dlq: the broker at {servers} failed ({error}); nothing was marked replayed", file=sys.stderr)
        return 1
    for letter in letters:
        print(letter.summary())
    if args.dlq_command == "replay":
        verb = "would be sent back" if args.dry_run else "sent back"
        print(f"{len(letters)} dead letter(s) of {args.topic} {verb} to their topic")
    return 0


def _keygen(args: argparse.Namespace) -> int:
    from omnicase.kit.sealing import new_master_key

    key_id = args.key_id
    print(f'OMNICASE_MASTER_KEYS=\'{{"{key_id}": "{new_master_key()}"}}\'')
    print(f"OMNICASE_MASTER_KEY_ID={key_id}")
    print(
        "# Rotation: add the new key beside the old ones in OMNICASE_MASTER_KEYS and make it current;", file=sys.stderr
    )
    print("# the services re-seal their secrets under it; drop the old key once none is left.", file=sys.stderr)
    return 0


def _service_url(value: str) -> tuple[str, str]:
    name, sep, url = value.partition("=")
    if not sep or not name or not url.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"expected service=http://host:port, not {value!r}")
    return name, url.rstrip("/")


def _status(args: argparse.Namespace) -> int:
    from omnicase.kit.service import discover_services
    from omnicase.status import report, service_urls, suite_status

    specs = discover_services()
    given = dict(args.url)
    unknown = sorted(set(given) - {spec.name for spec in specs})
    if unknown:
        print(f"omnicase status: no such service: {', '.join(unknown)}", file=sys.stderr)
        return 2
    urls = service_urls(specs, dict(os.environ), given)
    statuses = asyncio.run(suite_status(urls))
    print(report(statuses))
    return 0 if all(status.ready for status in statuses) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="omnicase", description="Omnicase command line")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="run every service's migrations").set_defaults(run=_migrate)
    serve = commands.add_parser("serve", help="run one service")
    serve.add_argument("service")
    serve.set_defaults(run=_serve)
    topics = commands.add_parser("topics", help="create the suite's topics")
    topics.add_argument("--partitions", type=int, default=4)
    topics.set_defaults(run=_topics)
    status = commands.add_parser(
        "status", help="each service's readiness, outbox backlog, consumer lag and dead letters"
    )
    status.add_argument(
        "--url", action="append", default=[], type=_service_url, help="service=URL where it is not on its dev port"
    )
    status.set_defaults(run=_status)
    keygen = commands.add_parser("keygen", help="a new master key sealing secrets at rest, as settings take it")
    keygen.add_argument("--key-id", default="k1", help="its id (rotation: a new id beside the old keys)")
    keygen.set_defaults(run=_keygen)
    outbox = commands.add_parser("outbox", help="operate the services' outboxes")
    outbox_commands = outbox.add_subparsers(dest="outbox_command", required=True)
    replay = outbox_commands.add_parser(
        "replay",
        help="publish again every event published since a moment (after a broker lost data)",
        description="Mark the events each service published since --since unpublished, so its relay "
        "publishes them again in their original order; consumers drop the ones they already applied. "
        "After losing a broker's data, run it before the services can publish to the new broker "
        "(before creating its topics), so replayed events precede newer ones of the same key.",
    )
    replay.add_argument(
        "--since", required=True, help="a duration back from now (90s, 15m, 1h, 1h30m, 2d) or an RFC 3339 time"
    )
    replay.add_argument(
        "--service", action="append", default=[], help="only this service (repeatable); every service by default"
    )
    replay.add_argument("--dry-run", action="store_true", help="count what would be replayed, change nothing")
    replay.set_defaults(run=_outbox_replay)
    dead = commands.add_parser("dlq", help="messages consumers gave up on (on KAFKA_BOOTSTRAP_SERVERS)")
    dead_commands = dead.add_subparsers(dest="dlq_command", required=True)
    listing = dead_commands.add_parser("list", help="every dead letter of a topic, replayed or pending, with why")
    listing.add_argument("topic", help="one of the suite's topics, e.g. case.events")
    listing.set_defaults(run=_dlq)
    resend = dead_commands.add_parser(
        "replay",
        help="send the pending dead letters of a topic back to it, once the cause is fixed",
        description="Every consumer group of the topic sees each message again: the groups that had applied "
        "it drop it (inbox), the one that failed tries again. Replayed letters are remembered, so a second "
        "replay sends only newer ones.",
    )
    resend.add_argument("topic", help="one of the suite's topics, e.g. case.events")
    resend.add_argument("--dry-run", action="store_true", help="list what would be sent back, send nothing")
    resend.set_defaults(run=_dlq)
    # Development commands (`up`, `bench`) come from omnicase-devtools when it is installed;
    # a service's image carries only the operational ones above.
    for entry in sorted(entry_points(group=COMMANDS_ENTRY_POINT_GROUP), key=lambda entry: entry.name):
        entry.load()(commands)
    args = parser.parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
