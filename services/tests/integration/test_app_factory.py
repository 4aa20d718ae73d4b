"""The HTTP app factory every service uses, on a demo service with real PostgreSQL and broker."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import ClassVar

import httpx
import pytest
import pytest_asyncio
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, Field
from pydantic_settings import SettingsConfigDict
from sqlalchemy import select

from omnicase.devtools.testing.plugin import ScratchSchema, eventually
from omnicase.devtools.testing.probes import numbered_event
from omnicase.devtools.testing.servers import serve_http
from omnicase.kit.app import ServiceParts, create_service_app
from omnicase.kit.clock import utcnow
from omnicase.kit.db import SessionDep
from omnicase.kit.errors import NotFound, problem_responses
from omnicase.kit.inputs import STORABLE_TEXT_PATTERN
from omnicase.kit.outbox import Outbox
from omnicase.kit.service import ServiceSpec
from omnicase.kit.settings import ServiceSettings

pytestmark = pytest.mark.asyncio

SPEC = ServiceSpec(
    name="demo", description="A demo service.", package="omnicase.kit", schema="demo", env_prefix="DEMO_", dev_port=0
)


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="DEMO_")
    service_name: ClassVar[str] = "demo"


class ThingCreate(BaseModel):
    name: str = Field(min_length=1)
    size: int = Field(ge=1)


def demo_router(schema: ScratchSchema) -> APIRouter:
    router = APIRouter()
    outbox = Outbox(schema.outbox)

    @router.get("/things/{thing_id}", responses=problem_responses(NotFound))
    async def get_thing(thing_id: int) -> dict[str, int]:
        raise NotFound(f"Thing {thing_id} does not exist.")

    @router.post("/things", status_code=201)
    async def create_thing(body: ThingCreate, session: SessionDep) -> dict[str, str]:
        case_id = uuid.uuid4()
        await outbox.add(session, numbered_event(case_id, body.size), source="demo", subject="t", key=str(case_id))
        if body.name == "reject-after-write":
            raise NotFound("changed my mind after writing")
        return {"id": str(case_id)}

    @router.get("/things")
    async def search_things(q: str = "", tag: str = "") -> dict[str, str]:
        return {"q": q, "tag": tag}

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    return router


@pytest_asyncio.fixture
async def demo_app(
    scratch_schema: ScratchSchema, database_url: str, kafka_bootstrap: str, topic_prefix: str
) -> AsyncIterator[FastAPI]:
    settings = DemoSettings(
        database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap, topic_prefix=topic_prefix
    )
    app = create_service_app(
        SPEC,
        settings,
        ServiceParts(routers=[demo_router(scratch_schema)], outbox_table=scratch_schema.outbox),
    )
    async with app.router.lifespan_context(app):
        yield app


@pytest_asyncio.fixture
async def client(demo_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=demo_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
        yield client


async def test_health_and_readiness_report_each_dependency(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok", "service": "demo"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok", "outbox_relay": "ok"}


async def test_readiness_fails_with_the_reason_when_the_database_is_unreachable(
    scratch_schema: ScratchSchema,
) -> None:
    settings = DemoSettings(database_url="postgresql+asyncpg://postgres@127.0.0.1:9/nowhere")
    app = create_service_app(SPEC, settings, ServiceParts(uses_kafka=False))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
            response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "not_ready"
    assert response.json()["checks"]["database"].startswith("failing:")


async def test_service_error_is_problem_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/things/42")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "https://omnicase.dev/problems/not-found",
        "title": "Not found",
        "status": 404,
        "detail": "Thing 42 does not exist.",
        "instance": "/things/42",
    }


async def test_validation_error_lists_each_bad_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/things", json={"name": "", "size": 0})
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"].endswith("/validation-error")
    assert {error["field"] for error in problem["errors"]} == {"body.name", "body.size"}


async def test_a_path_that_cannot_hold_an_id_is_a_404_naming_the_parameter(client: httpx.AsyncClient) -> None:
    for path in ("/things/None", "/things/[1,%202]"):
        response = await client.get(path)
        assert response.status_code == 404, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"].endswith("/not-found")
        assert [error["field"] for error in problem["errors"]] == ["path.thing_id"]


async def test_a_nul_in_a_query_parameter_or_the_path_is_a_422_naming_it_not_a_database_error(
    client: httpx.AsyncClient,
) -> None:
    searched = await client.get("/things", params={"q": "caf\u00e9 \U0001f600", "tag": ""})
    assert searched.status_code == 200
    assert searched.json() == {"q": "caf\u00e9 \U0001f600", "tag": ""}
    refused = await client.get("/things?q=ab%00c&tag=ok&tag=%00")
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in refused.json()["errors"]] == ["query.q", "query.tag"]
    in_path = await client.get("/things/1%00")
    assert in_path.status_code == 422
    assert [error["field"] for error in in_path.json()["errors"]] == ["path"]


async def test_unknown_route_and_unexpected_error_are_problems_without_internals(client: httpx.AsyncClient) -> None:
    missing = await client.get("/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    boom = await client.get("/boom")
    assert boom.status_code == 500
    assert boom.json()["type"].endswith("/internal-error")
    assert "secret internals" not in boom.text


async def test_success_means_committed_and_error_means_nothing_written(
    client: httpx.AsyncClient, scratch_schema: ScratchSchema
) -> None:
    created = await client.post("/things", json={"name": "ok", "size": 1})
    assert created.status_code == 201
    rejected = await client.post("/things", json={"name": "reject-after-write", "size": 2})
    assert rejected.status_code == 404
    async with scratch_schema.database.unit_of_work() as session:
        keys = (await session.scalars(select(scratch_schema.outbox.c.key))).all()
    assert keys == [created.json()["id"]], "the rejected request left no row behind"


async def test_request_and_trace_ids_are_echoed_and_traceparent_is_honoured(client: httpx.AsyncClient) -> None:
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    response = await client.get(
        "/healthz", headers={"X-Request-ID": "req-123", "traceparent": f"00-{trace}-00f067aa0ba902b7-01"}
    )
    assert response.headers["x-request-id"] == "req-123"
    assert response.headers["x-trace-id"] == trace


async def test_a_header_value_that_is_no_utf_8_is_read_as_octets_not_a_500(client: httpx.AsyncClient) -> None:
    # HTTP allows opaque octets beyond ASCII in a value; schemathesis sent an Origin of b"\xcc_".
    response = await client.get("/healthz", headers={b"Origin": b"\xcc_", b"X-Request-ID": b"req-\xe9"})
    assert response.status_code == 200
    assert {name.lower(): value for name, value in response.headers.raw}[b"x-request-id"] == b"req-\xe9"


async def test_metrics_expose_request_counts_per_route(client: httpx.AsyncClient) -> None:
    await client.get("/things/1")
    metrics = (await client.get("/metrics")).text
    assert (
        'omnicase_http_requests_total{method="GET",route="/things/{thing_id}",service="demo",status="404"}' in metrics
    )


async def test_openapi_declares_the_problem_schema(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert "Problem" in spec["components"]["schemas"]
    not_found = spec["paths"]["/things/{thing_id}"]["get"]["responses"]["404"]
    assert "application/problem+json" in not_found["content"]


async def test_a_free_text_parameter_publishes_that_it_holds_no_nul(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    parameters = {item["name"]: item["schema"] for item in spec["paths"]["/things"]["get"]["parameters"]}
    assert parameters["q"]["pattern"] == parameters["tag"]["pattern"] == STORABLE_TEXT_PATTERN
    assert (await client.get("/things?q=%00")).status_code == 422


async def test_a_service_forgets_inbox_ids_older_than_the_retention(
    scratch_schema: ScratchSchema, database_url: str, kafka_bootstrap: str, topic_prefix: str
) -> None:
    inbox = scratch_schema.inbox
    old, recent = uuid.uuid4(), uuid.uuid4()
    async with scratch_schema.database.unit_of_work() as session:
        await session.execute(
            inbox.insert(),
            [
                {"consumer": "demo", "event_id": old, "processed_at": utcnow() - timedelta(hours=25)},
                {"consumer": "demo", "event_id": recent, "processed_at": utcnow() - timedelta(hours=23)},
            ],
        )
    settings = DemoSettings(
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_prefix=topic_prefix,
        inbox_retention_hours=24,
    )
    app = create_service_app(SPEC, settings, ServiceParts(outbox_table=scratch_schema.outbox, inbox_table=inbox))

    async def remembered() -> set[uuid.UUID]:
        async with scratch_schema.database.unit_of_work() as session:
            rows = await session.scalars(select(inbox.c.event_id).where(inbox.c.event_id.in_([old, recent])))
            return set(rows.all())

    async with app.router.lifespan_context(app):

        async def only_the_recent_one() -> bool:
            return await remembered() == {recent}

        await eventually(only_the_recent_one, message="the id older than the retention is forgotten")


@pytest.mark.parametrize("access_log", [False, True])
async def test_requests_leave_a_log_line_each_only_when_the_access_log_is_asked_for(
    scratch_schema: ScratchSchema,
    database_url: str,
    kafka_bootstrap: str,
    topic_prefix: str,
    capfd: pytest.CaptureFixture[str],
    access_log: bool,
) -> None:
    settings = DemoSettings(
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_prefix=topic_prefix,
        access_log=access_log,
    )
    app = create_service_app(SPEC, settings, ServiceParts(routers=[demo_router(scratch_schema)]))
    async with serve_http(app) as url, httpx.AsyncClient(base_url=url) as http:
        for _ in range(3):
            assert (await http.get("/healthz")).status_code == 200
    logged = [line for line in capfd.readouterr().err.splitlines() if '"logger": "uvicorn.access"' in line]
    assert len(logged) == (3 if access_log else 0), logged
