"""The HTTP app factory every service uses.

:func:`create_service_app` gives a FastAPI app with:

- a lifespan that builds the service's :class:`Runtime` (database, producer,
  outbox relay, consumers) at start and closes it on shutdown (SIGTERM included:
  uvicorn turns it into lifespan shutdown), nothing built at import time;
- ``/healthz`` (the process is alive), ``/readyz`` (database, broker, relay and
  consumers are working; 503 with the failing checks otherwise), ``/metrics``;
- request and trace id propagation (``X-Request-ID``, ``X-Trace-ID`` or W3C
  ``traceparent``), JSON access logs and per-route latency metrics;
- problem+json errors (:mod:`omnicase.kit.errors`) and OpenAPI metadata;
- a 401 for any ``/api/`` request without the gateway's signed identity
  (:mod:`omnicase.kit.identity`); public routes live outside ``/api/``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Generic, TypeVar

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import Table
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from omnicase.kit.blobs import BlobStore, open_blob_store
from omnicase.kit.bus.batch import BatchHandler, WantsEvents
from omnicase.kit.bus.consumer import ConsumerConfig, EventConsumer
from omnicase.kit.bus.producer import EventProducer
from omnicase.kit.context import (
    REQUEST_ID_HEADER,
    TRACE_ID_HEADER,
    new_trace_id,
    request_id_var,
    trace_id_from_traceparent,
    trace_id_var,
)
from omnicase.kit.db import Database, create_engine
from omnicase.kit.errors import PROBLEM_MEDIA_TYPE, Problem, install_error_handlers
from omnicase.kit.identity import RequireIdentityMiddleware
from omnicase.kit.inbox import Inbox, InboxJanitor
from omnicase.kit.inputs import STORABLE_TEXT_PATTERN, UnstorableQueryMiddleware, storable_value_components
from omnicase.kit.logs import configure_logging
from omnicase.kit.metrics import HTTP_LATENCY, HTTP_REQUESTS
from omnicase.kit.outbox import Outbox, OutboxRelay
from omnicase.kit.periodic import Stop as Stop  # re-exported: what a background starter returns
from omnicase.kit.service import ServiceSpec
from omnicase.kit.settings import ServiceSettings

logger = logging.getLogger(__name__)


@dataclass
class ConsumerBinding:
    """A consumer a service runs: its config (topics, group, the event types it accepts) and its batch handler.

    ``wants``, when given, is asked before each batch whether the handler has anything to do
    with events at all right now; see :class:`~omnicase.kit.bus.consumer.EventConsumer`.
    """

    config: ConsumerConfig
    handler: BatchHandler
    wants: WantsEvents | None = None


SettingsT = TypeVar("SettingsT", bound=ServiceSettings)
StateT = TypeVar("StateT")


class Runtime(Generic[SettingsT, StateT]):
    """Everything a running service holds; lives on ``app.state.runtime``.

    ``settings`` has the service's own settings type and ``state`` its own state type
    (what :attr:`ServiceParts.state` built at start), so a service reads both typed,
    never through a cast or a string key.
    """

    def __init__(
        self,
        spec: ServiceSpec,
        settings: SettingsT,
        database: Database,
        *,
        producer: EventProducer | None = None,
        outbox: Outbox | None = None,
        state: StateT | None = None,
        blobs: BlobStore | None = None,
    ) -> None:
        self.spec = spec
        self.settings = settings
        self.database = database
        # File bytes, shared by every service (omnicase.kit.blobs).
        self.blobs = blobs or open_blob_store(settings, spec.name)
        self.producer = producer
        self.relay: OutboxRelay | None = None
        self.inbox: Inbox | None = None
        self.consumers: list[EventConsumer] = []
        self._outbox = outbox
        self._state = state

    @property
    def outbox(self) -> Outbox:
        """The service's outbox (its :attr:`ServiceParts.outbox_table`)."""
        if self._outbox is None:
            raise RuntimeError(f"{self.spec.name} runs without an outbox: its ServiceParts name no outbox_table")
        return self._outbox

    @property
    def state(self) -> StateT:
        """The service's own state, built once at start by :attr:`ServiceParts.state`."""
        if self._state is None:
            raise RuntimeError(f"{self.spec.name}'s state was read before start-up built it")
        return self._state


def state_of(request: Request, kind: type[StateT]) -> StateT:
    """The running service's state as ``kind``: what a service's own route dependency returns."""
    runtime: Runtime[Any, Any] = request.app.state.runtime
    state = runtime.state
    if not isinstance(state, kind):
        raise TypeError(f"{runtime.spec.name}'s state is a {type(state).__name__}, not a {kind.__name__}")
    return state


@dataclass
class ServiceParts(Generic[SettingsT, StateT]):
    """What a service plugs into the factory."""

    routers: Sequence[APIRouter] = ()
    outbox_table: Table | None = None
    inbox_table: Table | None = None
    consumers: Sequence[ConsumerBinding] = ()
    uses_kafka: bool = True
    # The service's own state (clients, caches, workers), built in one place after the
    # kit's parts and closed on shutdown: what ``runtime.state`` returns.
    state: Callable[[Runtime[SettingsT, Any]], AbstractAsyncContextManager[StateT]] | None = None
    # Extra start work (an SMTP listener, a scheduler), after the state; each returns its
    # stop function (or None), called in reverse order on shutdown.
    background: Sequence[Callable[[Runtime[SettingsT, StateT]], Awaitable[Stop | None]]] = ()
    readiness: dict[str, Callable[[Runtime[SettingsT, StateT]], Awaitable[None]]] = field(default_factory=dict)
    # The blob store, when the service's handlers are built before the app and need it;
    # otherwise the kit opens the one the settings name.
    blobs: BlobStore | None = None
    description: str = ""
    openapi_tags: list[dict[str, Any]] = field(default_factory=list)
    # False only for the gateway, which authenticates callers itself and signs the identity.
    requires_gateway_identity: bool = True


class ReadinessReport(BaseModel):
    status: str
    service: str
    checks: dict[str, str]


class RequestContextMiddleware:
    """Request/trace ids in, response headers and metrics out (pure ASGI: no body buffering)."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Latin-1, as ASGI servers and Starlette read headers: any octet is a value (HTTP allows
        # opaque octets beyond ASCII), where UTF-8 refused some with a 500.
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        request_id = headers.get(REQUEST_ID_HEADER.lower()) or new_trace_id()
        trace_id = (
            headers.get(TRACE_ID_HEADER.lower())
            or trace_id_from_traceparent(headers.get("traceparent"))
            or new_trace_id()
        )
        request_token = request_id_var.set(request_id[:128])
        trace_token = trace_id_var.set(trace_id[:128])
        started = time.perf_counter()
        status = 500

        async def send_with_ids(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (REQUEST_ID_HEADER.encode(), request_id[:128].encode("latin-1")),
                    (TRACE_ID_HEADER.encode(), trace_id[:128].encode("latin-1")),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_ids)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            elapsed = time.perf_counter() - started
            HTTP_REQUESTS.labels(self.service, scope["method"], path, str(status)).inc()
            HTTP_LATENCY.labels(self.service, scope["method"], path).observe(elapsed)
            request_id_var.reset(request_token)
            trace_id_var.reset(trace_token)


async def _start_producer(settings: ServiceSettings, client_id: str) -> EventProducer:
    """Start the producer, waiting out a broker that is still coming up (up to ~30 s)."""
    delay = 0.25
    deadline = time.monotonic() + 30
    while True:
        producer = EventProducer(
            settings.kafka_bootstrap_servers,
            client_id=client_id,
            enable_idempotence=settings.kafka_enable_idempotence,
        )
        try:
            await producer.start()
            return producer
        except Exception:
            await producer.stop()
            if time.monotonic() > deadline:
                raise
            logger.warning("broker not reachable yet; retrying", extra={"servers": settings.kafka_bootstrap_servers})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


def create_service_app(spec: ServiceSpec, settings: SettingsT, parts: ServiceParts[SettingsT, StateT]) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(spec.name, settings.log_level, access_log=settings.access_log)
        database = Database(
            create_engine(settings.database_url, pool_size=settings.db_pool_size, application_name=spec.name)
        )
        runtime: Runtime[SettingsT, StateT] = Runtime(spec, settings, database, blobs=app.state.blobs)
        app.state.database = database
        app.state.runtime = runtime
        stack: list[Stop] = [database.dispose, runtime.blobs.close]
        try:
            if parts.uses_kafka:
                producer = await _start_producer(settings, spec.name)
                runtime.producer = producer
                stack.append(producer.stop)
            if parts.outbox_table is not None:
                runtime._outbox = Outbox(parts.outbox_table)
                if runtime.producer is not None:
                    relay = OutboxRelay(
                        database,
                        runtime.producer,
                        parts.outbox_table,
                        topic_prefix=settings.topic_prefix,
                        retention=timedelta(hours=settings.outbox_retention_hours),
                    )
                    relay.start()
                    runtime.relay = relay
                    stack.append(relay.stop)
            if parts.inbox_table is not None:
                runtime.inbox = Inbox(parts.inbox_table)
                janitor = InboxJanitor(database, runtime.inbox, timedelta(hours=settings.inbox_retention_hours))
                janitor.start()
                stack.append(janitor.stop)
            for binding in parts.consumers:
                assert runtime.producer is not None, "consumers need uses_kafka=True"
                assert runtime.inbox is not None, "consumers need an inbox_table"
                config = dataclasses.replace(
                    binding.config,
                    session_timeout_ms=settings.consumer_session_timeout_ms,
                    heartbeat_interval_ms=settings.consumer_heartbeat_interval_ms,
                )
                consumer = EventConsumer(
                    config,
                    binding.handler,
                    wants=binding.wants,
                    database=database,
                    inbox=runtime.inbox,
                    producer=runtime.producer,
                    bootstrap_servers=settings.kafka_bootstrap_servers,
                    topic_prefix=settings.topic_prefix,
                )
                await consumer.start()
                runtime.consumers.append(consumer)
                stack.append(consumer.stop)
            if parts.state is not None:
                states = AsyncExitStack()
                stack.append(states.aclose)
                runtime._state = await states.enter_async_context(parts.state(runtime))
            for starter in parts.background:
                stopper = await starter(runtime)
                if stopper is not None:
                    stack.append(stopper)
            logger.info("service started", extra={"port": settings.port})
            yield
        finally:
            for stop in reversed(stack):
                try:
                    await stop()
                except Exception:
                    logger.exception("error during shutdown")
            logger.info("service stopped")

    app = FastAPI(
        title=f"Omnicase {spec.name}",
        version="0.1.0",
        description=parts.description or spec.description,
        lifespan=lifespan,
        openapi_tags=[*parts.openapi_tags, {"name": "operations", "description": "Health, readiness, metrics."}],
    )
    app.state.settings = settings
    app.state.blobs = parts.blobs or open_blob_store(settings, spec.name)
    if parts.requires_gateway_identity:
        # Every /api/ route is reached through the gateway: no valid signed identity, 401.
        app.add_middleware(RequireIdentityMiddleware, secret=settings.internal_secret)
    app.add_middleware(UnstorableQueryMiddleware)
    app.add_middleware(RequestContextMiddleware, service=spec.name)
    install_error_handlers(app)

    @app.get("/healthz", tags=["operations"], operation_id="get_health")
    async def healthz() -> dict[str, str]:
        """Liveness: the process is up and serving."""
        return {"status": "ok", "service": spec.name}

    @app.get(
        "/readyz",
        tags=["operations"],
        operation_id="get_readiness",
        response_model=ReadinessReport,
        responses={503: {"model": ReadinessReport, "description": "A dependency is not working."}},
    )
    async def readyz(request: Request) -> JSONResponse:
        """Readiness: database, broker, outbox relay and consumers all working."""
        runtime: Runtime[SettingsT, StateT] = request.app.state.runtime
        checks: dict[str, Callable[[], Awaitable[None]]] = {"database": runtime.database.ping}
        if runtime.settings.blob_store != "postgres":
            checks["blob_store"] = runtime.blobs.ping
        if runtime.producer is not None:
            checks["broker"] = runtime.producer.ping
        if runtime.relay is not None:
            relay = runtime.relay

            async def relay_running() -> None:
                if not relay.running:
                    raise RuntimeError("outbox relay is not running")

            checks["outbox_relay"] = relay_running
        for consumer in runtime.consumers:

            async def consumer_running(consumer: EventConsumer = consumer) -> None:
                if not consumer.healthy:
                    raise RuntimeError(f"stopped: {consumer.failure!r}")

            checks[f"consumer:{consumer.config.group}"] = consumer_running
        for name, check in parts.readiness.items():

            async def extra(check: Callable[[Runtime[SettingsT, StateT]], Awaitable[None]] = check) -> None:
                await check(runtime)

            checks[name] = extra
        results = await asyncio.gather(
            *(asyncio.wait_for(check(), timeout=3.0) for check in checks.values()), return_exceptions=True
        )
        report = {
            name: "ok" if not isinstance(result, BaseException) else f"failing: {result!r}"[:300]
            for name, result in zip(checks, results, strict=True)
        }
        ready = all(value == "ok" for value in report.values())
        body = ReadinessReport(status="ready" if ready else "not_ready", service=spec.name, checks=report)
        return JSONResponse(body.model_dump(), status_code=200 if ready else 503)

    @app.get("/metrics", tags=["operations"], operation_id="get_metrics", include_in_schema=True)
    async def metrics() -> Response:
        """Prometheus metrics of this process."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    for router in parts.routers:
        app.include_router(router)

    # Make the problem schema part of every service's OpenAPI components.
    app.openapi_schema = None
    original_openapi = app.openapi

    def openapi_with_problem() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = original_openapi()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.setdefault("Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}"))
            for name, definition in (
                Problem.model_json_schema(ref_template="#/components/schemas/{model}").get("$defs", {}).items()
            ):
                components.setdefault(name, definition)
            components["Problem"].pop("$defs", None)
            for name, definition in storable_value_components().items():
                components.setdefault(name, definition)
            _declare_unreadable_bodies(schema)
            schema = name_page_schemas(schema)
            _storable_parameters(schema)
            _standard_bounds(schema)
            _declare_file_answers(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi_with_problem  # type: ignore[method-assign]
    return app


HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def operations_of(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """``(path, method, operation)`` for every operation of an OpenAPI document."""
    return [
        (path, method, operation)
        for path, item in document.get("paths", {}).items()
        for method, operation in item.items()
        if method in HTTP_METHODS and isinstance(operation, dict)
    ]


def rename_schemas(document: dict[str, Any], renames: dict[str, str]) -> dict[str, Any]:
    """``document`` with each component schema ``old`` named ``new``, every ``$ref`` to it too."""
    if not renames:
        return document
    text = json.dumps(document)
    for old, new in renames.items():
        text = text.replace(f'"#/components/schemas/{old}"', f'"#/components/schemas/{new}"')
    renamed: dict[str, Any] = json.loads(text)
    schemas = renamed.get("components", {}).get("schemas", {})
    for old, new in renames.items():
        schemas[new] = schemas.pop(old)
    return renamed


def name_page_schemas(document: dict[str, Any]) -> dict[str, Any]:
    """Each page schema whose item names it (``page_name``, its title: :class:`~omnicase.kit.pagination.Page`)
    by that name, the schemas kept in FastAPI's order."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    titles = {key: str(schema.get("title", "")) for key, schema in schemas.items() if key.startswith("Page_")}
    named = rename_schemas(document, {key: title for key, title in titles.items() if title.isidentifier()})
    if named is not document:
        named["components"]["schemas"] = dict(sorted(named["components"]["schemas"].items()))
    return named


def _declare_file_answers(schema: dict[str, Any]) -> None:
    """A file's bytes (an attachment, a mail's source) are a binary string, not an empty schema (unknown to clients)."""
    for _, _, operation in operations_of(schema):
        for answer in operation.get("responses", {}).values():
            for media_type, content in answer.get("content", {}).items():
                if "json" not in media_type and not media_type.startswith("text/") and not content.get("schema"):
                    content["schema"] = {"type": "string", "format": "binary"}


_BOUNDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}


def _standard_bounds(node: Any) -> None:
    """Bounds as JSON Schema names them, wherever pydantic wrote its own.

    Behind a validator (the kit's ``Integer``), bounds given with ``Field`` on an optional
    field reach the schema as ``ge``/``le``, which no client generator or validator reads.
    """
    if isinstance(node, dict):
        if node.get("type") in ("integer", "number"):
            for raw, standard in _BOUNDS.items():
                value = node.get(raw)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    node[standard] = node.pop(raw)
        for child in node.values():
            _standard_bounds(child)
    elif isinstance(node, list):
        for child in node:
            _standard_bounds(child)


def _storable_parameters(schema: dict[str, Any]) -> None:
    """A free-text parameter (query, path, header) publishes the storable-text pattern: a NUL in one is
    a 422 (UnstorableQueryMiddleware), so the document must not offer it."""

    def storable(node: Any) -> None:
        if not isinstance(node, dict):
            return
        if node.get("type") == "string" and not {"pattern", "format", "enum", "const"} & node.keys():
            node["pattern"] = STORABLE_TEXT_PATTERN
        for child in node.get("anyOf", []):
            storable(child)
        storable(node.get("items"))

    for _, _, operation in operations_of(schema):
        for parameter in operation.get("parameters", []):
            storable(parameter.get("schema"))


def _declare_unreadable_bodies(schema: dict[str, Any]) -> None:
    """Every operation taking a body may answer 400 when the body cannot be read at all (not JSON, not UTF-8)."""
    problem = {
        "description": "The body cannot be read (malformed JSON, not UTF-8).",
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for _, _, operation in operations_of(schema):
        if "requestBody" in operation:
            operation.setdefault("responses", {}).setdefault("400", problem)
