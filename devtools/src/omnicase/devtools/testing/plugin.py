"""pytest fixtures with real servers, shared by every service's tests.

- ``embedded_postgres`` / ``tansu_broker`` (session): one real PostgreSQL and one
  real Tansu broker per test run, on free ports, in temporary directories.
- ``s3_server`` (session): moto's S3-compatible server, checking signatures: its
  endpoint and the one access key it accepts (:class:`S3Server`).
- ``database_url`` (session): a fresh database with every installed service's
  migrations applied once (so migrations are tested on every run).
- ``db`` (function): a :class:`Database` whose sessions join one outer transaction
  that is rolled back after the test (SQLAlchemy's ``create_savepoint`` recipe);
  ``committing_db`` one whose transactions commit (races, a second process).
- ``scratch_schema`` (function): a schema of its own with the kit's outbox and
  inbox tables, for tests that need real commits and concurrent transactions.
- ``topic_prefix`` (function): a unique prefix so each test has its own topics;
  ``suite_topics`` creates them.
- ``service_settings`` (function): a factory of any service's settings pointing at
  all of the above.
- ``producer`` (function): an :class:`EventProducer` on the test broker, to publish test
  input the way other services would.
- ``clock`` (function): the kit's clock, a :class:`ManualClock` moved only by the test, from
  Monday 2 March 2026, 09:00 UTC (a folder wanting another start overrides it with
  :func:`installed_clock`).
- ``brand`` (function): a brand only this test uses, for what is global and committed by API
  tests (rules, policies, sections) or shared by the whole session (a read model).
- ``brand_desk`` (module): the real case-core, served from a thread of its own on its own topics,
  for services that check the brands a body names (intake-web's forms and channels, intake-email's
  mailboxes): its URL, and ``make(slug)`` (:class:`BrandDesk`).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import MetaData, Table, text
from sqlalchemy.ext.asyncio import async_sessionmaker

from omnicase.devtools.devstack.broker import TansuBroker
from omnicase.devtools.devstack.postgres import EmbeddedPostgres
from omnicase.devtools.devstack.processes import die_with_parent, free_port, terminate, wait_for_tcp
from omnicase.devtools.testing.apps import GatewayIdentity
from omnicase.devtools.testing.clock import MONDAY_MORNING, ManualClock, installed_clock
from omnicase.devtools.testing.servers import served_in_thread
from omnicase.kit.bus.producer import EventProducer
from omnicase.kit.db import Database, create_engine, service_metadata
from omnicase.kit.inbox import inbox_table
from omnicase.kit.outbox import outbox_table
from omnicase.kit.service import discover_services
from omnicase.kit.settings import ServiceSettings
from omnicase.ops.migrations import create_kit_tables
from omnicase.ops.migrations import upgrade as upgrade_service
from omnicase.ops.topics import ensure_suite_topics

TEST_DATABASE = "omnicase_test"


@pytest.fixture(scope="session")
def embedded_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    root = tmp_path_factory.mktemp("postgres")
    server = EmbeddedPostgres(root / "data", port=free_port(), log_file=root / "postgres.log", durable=False)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def tansu_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TansuBroker]:
    root = tmp_path_factory.mktemp("tansu")
    broker = TansuBroker(port=free_port(), log_file=root / "tansu.log")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    region: str
    access_key: str
    secret_key: str


# moto checks no signature for the first this many requests: the three that make our IAM user.
_S3_BOOTSTRAP_REQUESTS = 3


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """moto's server with authentication on, so a wrong signature is refused as by S3.

    Every request after the bootstrap is checked against moto's IAM: the fixture creates a
    user allowed ``s3:*`` and hands out its key (any other key gets ``InvalidAccessKeyId``).
    """
    log_file = tmp_path_factory.mktemp("moto") / "moto.log"
    port = free_port()
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            env={**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(_S3_BOOTSTRAP_REQUESTS)},
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
    try:
        wait_for_tcp("127.0.0.1", port, timeout=60, alive=lambda: process.poll() is None)
        endpoint = f"http://127.0.0.1:{port}"
        # moto routes a request by the service its credential scope names; this one is not checked.
        iam_scope = {"authorization": "AWS4-HMAC-SHA256 Credential=bootstrap/20240101/us-east-1/iam/aws4_request"}
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        answers = [
            httpx.post(
                endpoint, data={"Version": "2010-05-08", **params}, headers=iam_scope, timeout=30
            ).raise_for_status()
            for params in (
                {"Action": "CreateUser", "UserName": "omnicase"},
                {"Action": "CreateAccessKey", "UserName": "omnicase"},
                {
                    "Action": "PutUserPolicy",
                    "UserName": "omnicase",
                    "PolicyName": "s3",
                    "PolicyDocument": json.dumps(policy),
                },
            )
        ]
        key = ElementTree.fromstring(answers[1].content)
        access_key, secret_key = key.findtext(".//{*}AccessKeyId"), key.findtext(".//{*}SecretAccessKey")
        if not (access_key and secret_key):
            raise RuntimeError(f"moto created no access key: {answers[1].text}")
        yield S3Server(endpoint, "us-east-1", access_key, secret_key)
    finally:
        terminate(process)


@pytest.fixture(scope="session")
def kafka_bootstrap(tansu_broker: TansuBroker) -> str:
    return tansu_broker.bootstrap_servers


@pytest.fixture(scope="session")
def database_url(embedded_postgres: EmbeddedPostgres) -> str:
    """A database with every installed service's migrations applied."""
    embedded_postgres.ensure_database(TEST_DATABASE)
    url = embedded_postgres.url(TEST_DATABASE)
    for spec in discover_services():
        if spec.has_migrations():
            upgrade_service(spec, url)
    return url


@pytest.fixture
def clock() -> Iterator[ManualClock]:
    """The kit's clock, moved only by the test (SLA timers, offers, retries without sleeping)."""
    with installed_clock(MONDAY_MORNING) as manual:
        yield manual


@pytest.fixture
def brand() -> str:
    """A brand only this test uses (rules, policies and sections are global, and API tests commit)."""
    return f"brand-{uuid.uuid4().hex[:12]}"


# The brand desk's own database (see brand_desk).
BRAND_DESK_DATABASE = "omnicase_brand_desk"


@dataclass(frozen=True)
class BrandDesk:
    """The session's case-core as a service checking brands calls it: its ``url`` (that service's
    ``case_core_url``) and ``make(slug)``."""

    url: str
    secret: str

    def make(self, slug: str, **fields: Any) -> dict[str, Any]:
        """The brand ``slug``, made (named after its slug, with ``fields``) unless case-core has it."""
        auth = GatewayIdentity(self.secret, scopes=frozenset({"cases:read", "cases:write"}))
        with httpx.Client(base_url=self.url, auth=auth, timeout=30) as http:
            known: dict[str, dict[str, Any]] = {
                item["slug"]: item for item in http.get("/api/v1/brands").raise_for_status().json()["items"]
            }
            if slug in known:
                return known[slug]
            made: dict[str, Any] = (
                http.post("/api/v1/brands", json={"name": slug, "slug": slug, **fields}).raise_for_status().json()
            )
            return made


@pytest.fixture(scope="module")
def brand_desk(embedded_postgres: EmbeddedPostgres, kafka_bootstrap: str) -> Iterator[BrandDesk]:
    """The real case-core for a test module, answering ``/api/v1/brands`` over HTTP from a thread
    of its own (it outlives each test's event loop), on topics of its own (it never takes the
    messages a test's intake publishes) and in a database of its own: on the tests' database its
    outbox relay would hold case-core's outbox shards and publish the cases a test's own case-core
    writes to the desk's topics, where nothing of that test reads them. A module's, not the
    session's: a service's thread left running through later modules took their CPU and drew on
    the ``random`` module (aiokafka does) while their hypothesis tests generated in this process.
    Imported here, not at the top: the suite's tests run with every service installed, the plugin
    alone needs none."""
    from omnicase.case_core.app import create_app
    from omnicase.case_core.settings import CaseCoreSettings

    embedded_postgres.ensure_database(BRAND_DESK_DATABASE)
    database_url = embedded_postgres.url(BRAND_DESK_DATABASE)
    upgrade_service(next(spec for spec in discover_services() if spec.name == "case-core"), database_url)
    prefix = f"t{uuid.uuid4().hex[:10]}."
    settings = CaseCoreSettings(
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_prefix=prefix,
        consumer_session_timeout_ms=3000,
        consumer_heartbeat_interval_ms=300,
    )

    async def topics() -> None:
        await ensure_suite_topics(kafka_bootstrap, prefix=prefix, partitions=1)

    with served_in_thread(create_app(settings), before=topics) as url:
        yield BrandDesk(url, settings.internal_secret)


@pytest.fixture
def topic_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}."


@pytest_asyncio.fixture
async def suite_topics(kafka_bootstrap: str, topic_prefix: str) -> str:
    """Create this test's copies of every suite topic; returns the prefix."""
    await ensure_suite_topics(kafka_bootstrap, prefix=topic_prefix, partitions=4)
    return topic_prefix


@pytest_asyncio.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[EventProducer]:
    """Publishes test input the way other services would."""
    producer = EventProducer(kafka_bootstrap, client_id="tests")
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


SettingsFactory = Callable[..., Any]


@pytest_asyncio.fixture
async def service_settings(database_url: str, kafka_bootstrap: str, suite_topics: str) -> SettingsFactory:
    """``service_settings(CaseCoreSettings, **overrides)``: settings pointing at the test servers.

    The test database (migrated), the test broker, this test's own topics, and
    short consumer-group timings so consumers join within seconds.
    """

    def make(settings_cls: type[ServiceSettings], **overrides: Any) -> ServiceSettings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "kafka_bootstrap_servers": kafka_bootstrap,
            "topic_prefix": suite_topics,
            "consumer_session_timeout_ms": 3000,
            "consumer_heartbeat_interval_ms": 300,
        }
        values.update(overrides)
        return settings_cls(**values)

    return make


def park_what_earlier_modules_left(postgres: EmbeddedPostgres, schema: str, messages: str) -> None:
    """Mark what earlier modules left in an intake's ``schema`` as handed on, as a module starts its
    services: outbox rows unpublished, and rows of its ``messages`` table (the kit's intake contract:
    ``acknowledged_at``, ``last_published_at``) case-core never confirmed. Otherwise this module's relay
    and republisher hand them on onto this module's topics, where a test reading them finds another
    test's message. Run in one process, modules come in one order, which the tests were written for;
    parallel workers (pytest-xdist) each run theirs in an order of their own."""
    postgres.psql(
        f"UPDATE {schema}.outbox SET published_at = now() WHERE published_at IS NULL; "
        f"UPDATE {schema}.{messages} SET last_published_at = '2999-01-01' WHERE acknowledged_at IS NULL",
        TEST_DATABASE,
    )


@pytest_asyncio.fixture
async def committing_db(database_url: str) -> AsyncIterator[Database]:
    """The test database with transactions that really commit, on connections of its own: a second
    process's pool, or two writers racing (which the rolled-back ``db`` cannot do to itself)."""
    database = Database(create_engine(database_url, pool_size=4))
    try:
        yield database
    finally:
        await database.dispose()


@pytest_asyncio.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """Sessions inside one transaction rolled back after the test: nothing a test writes survives it."""
    engine = create_engine(database_url, pool_size=2)
    connection = await engine.connect()
    outer = await connection.begin()
    database = Database(engine)
    database.sessions = async_sessionmaker(
        bind=connection, expire_on_commit=False, autoflush=False, join_transaction_mode="create_savepoint"
    )
    try:
        yield database
    finally:
        await outer.rollback()
        await connection.close()
        await engine.dispose()


@dataclass
class ScratchSchema:
    name: str
    database: Database
    outbox: Table
    inbox: Table
    metadata: MetaData


@pytest_asyncio.fixture
async def scratch_schema(embedded_postgres: EmbeddedPostgres) -> AsyncIterator[ScratchSchema]:
    embedded_postgres.ensure_database(TEST_DATABASE)
    name = f"scratch_{uuid.uuid4().hex[:12]}"
    engine = create_engine(embedded_postgres.url(TEST_DATABASE), pool_size=10)
    async with engine.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{name}"'))
        await connection.run_sync(create_kit_tables, name)
    metadata = service_metadata(name)
    schema = ScratchSchema(name, Database(engine), outbox_table(metadata), inbox_table(metadata), metadata)
    try:
        yield schema
    finally:
        async with engine.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        await engine.dispose()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes more than a few seconds (real processes, many messages)")
    # Subprocesses started by tests (the dev stack) must not inherit a developer's external servers.
    for name in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"):
        os.environ.pop(name, None)


async def eventually(
    predicate: Callable[[], Awaitable[object]],
    *,
    within: float = 20.0,
    interval: float = 0.05,
    message: str = "condition",
) -> None:
    """Await ``predicate()`` until it returns truthy, or fail after ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        if await predicate():
            return
        if loop.time() > deadline:
            raise AssertionError(f"{message} not reached within {within:.0f}s")
        await asyncio.sleep(interval)


__all__ = ["TEST_DATABASE", "S3Server", "ScratchSchema", "eventually"]
