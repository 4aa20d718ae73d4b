"""Test helpers of the gateway's own tests: a stand-in upstream service, users and logins.

The upstream is a small FastAPI app served over real HTTP that plays case-core
and routing: it records every request that reaches it (headers included) and
serves a few cases belonging to two customers, so access rules are checked
against what a service would really have answered.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx
from fastapi import Body, FastAPI, Request
from fastapi.responses import JSONResponse, Response

from omnicase.gateway.identity.schemas import UserCreate
from omnicase.gateway.identity.service import IdentityService
from omnicase.gateway.settings import GatewaySettings
from omnicase.gateway.state import GatewayRuntime
from omnicase.kit.clock import utcnow
from omnicase.kit.errors import NotFound, ValidationFailed, install_error_handlers, problem_responses
from omnicase.kit.pagination import Page

PASSWORD = "correct horse battery staple"


@dataclass
class Upstream:
    url: str
    requests: list[Request] = field(default_factory=list)
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add_contact(self, organization_id: uuid.UUID | None = None) -> uuid.UUID:
        contact_id = uuid.uuid4()
        self.contacts[str(contact_id)] = {
            "id": str(contact_id),
            "organization_id": str(organization_id) if organization_id else None,
        }
        return contact_id

    def add_case(self, requester_id: uuid.UUID | None, organization_id: uuid.UUID | None = None) -> str:
        case_id = str(uuid.uuid4())
        self.cases[case_id] = {
            "id": case_id,
            "subject": f"case {len(self.cases) + 1}",
            "requester_id": str(requester_id) if requester_id else None,
            "organization_id": str(organization_id) if organization_id else None,
        }
        return case_id

    @property
    def last(self) -> Request:
        return self.requests[-1]


def _last_page(items: list[dict[str, Any]]) -> dict[str, Any]:
    return Page[dict[str, Any]](items=items).model_dump(mode="json")


def upstream_app(state: Upstream) -> FastAPI:
    """Plays case-core (cases, messages) and routing (agents), unaware of any access rule."""
    app = FastAPI(title="stub")
    install_error_handlers(app)

    @app.middleware("http")
    async def record(request: Request, call_next: Any) -> Response:
        if request.url.path.startswith(("/api/", "/public/")):
            state.requests.append(request)
        response: Response = await call_next(request)
        return response

    @app.get("/api/v1/cases", operation_id="cases_list", tags=["cases"])
    async def list_cases(request: Request, limit: int = 50) -> dict[str, Any]:
        """Honours no filter at all: the gateway must not rely on it."""
        return _last_page(list(state.cases.values())[:limit])

    @app.post("/api/v1/cases", operation_id="cases_create", tags=["cases"], status_code=201)
    async def create_case(body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        case_id = str(uuid.uuid4())
        state.cases[case_id] = {"id": case_id, "organization_id": None, **body}
        return state.cases[case_id]

    @app.get("/api/v1/cases/{case_id}", operation_id="cases_get", tags=["cases"], responses=problem_responses(NotFound))
    async def get_case(case_id: str) -> dict[str, Any]:
        if case_id not in state.cases:
            raise NotFound(f"Case {case_id} does not exist.")
        return state.cases[case_id]

    @app.get("/api/v1/cases/{case_id}/messages", operation_id="messages_list", tags=["cases"])
    async def list_messages(case_id: str) -> dict[str, Any]:
        items = [
            {"id": "m1", "body": "Hello", "public": True},
            {"id": "m2", "body": "Customer is difficult", "public": False},
        ]
        return _last_page(items)

    @app.post(
        "/api/v1/cases/{case_id}/messages",
        operation_id="messages_create",
        tags=["cases"],
        status_code=201,
        responses=problem_responses(ValidationFailed),
        openapi_extra={
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
        },
    )
    async def post_message(case_id: str, request: Request) -> dict[str, Any]:
        """JSON, or multipart with attachments (recorded as their sizes)."""
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            form = await request.form()
            body: dict[str, Any] = {}
            for name, value in form.multi_items():
                body[name] = value if isinstance(value, str) else len(await value.read())
            await form.close()
        else:
            try:
                body = json.loads(await request.body())
            except ValueError:
                body = None  # type: ignore[assignment]
            if not isinstance(body, dict):
                raise ValidationFailed("The body must be a JSON object.")
        state.messages.append(body)
        return {"id": str(uuid.uuid4()), **body}

    @app.get(
        "/api/v1/contacts/{contact_id}",
        operation_id="contacts_get",
        tags=["contacts"],
        responses=problem_responses(NotFound),
    )
    async def get_contact(contact_id: str) -> dict[str, Any]:
        if contact_id not in state.contacts:
            raise NotFound(f"Contact {contact_id} does not exist.")
        return state.contacts[contact_id]

    @app.get("/api/v1/agents", operation_id="agents_list", tags=["agents"])
    async def list_agents() -> dict[str, Any]:
        return _last_page([])

    @app.put("/api/v1/agents/{agent_id}/presence", operation_id="agents_set_presence", tags=["agents"])
    async def set_presence(agent_id: str) -> dict[str, str]:
        return {"agent_id": agent_id}

    @app.get("/readyz")
    async def ready() -> JSONResponse:
        return JSONResponse({"status": "ready", "service": "stub", "checks": {"database": "ok"}})

    return app


@dataclass
class Gateway:
    client: httpx.AsyncClient
    app: FastAPI
    settings: GatewaySettings

    @property
    def identity(self) -> IdentityService:
        runtime: GatewayRuntime = self.app.state.runtime
        return runtime.state.identity

    async def user(self, role: str = "agent", **fields: Any) -> dict[str, Any]:
        """A user committed to the gateway's tables (email unique per call), with ``password`` set."""
        if role == "end_user":
            fields.setdefault("contact_id", uuid.uuid4())
        body = UserCreate(
            email=f"{role}-{uuid.uuid4().hex[:10]}@example.test", name=role, role=role, password=PASSWORD, **fields
        )
        async with self.app.state.runtime.database.unit_of_work() as session:
            row = await self.identity.create_user(session, body, utcnow())
        return {**dict(row), "password": PASSWORD}

    async def login(self, user: dict[str, Any], **form: str) -> httpx.Response:
        data = {"grant_type": "password", "username": user["email"], "password": user["password"], **form}
        return await self.client.post("/api/v1/auth/token", data=data)

    async def bearer(self, role: str = "agent", **fields: Any) -> tuple[dict[str, Any], dict[str, str]]:
        """A new user of ``role`` logged in: the user and the Authorization header."""
        user = await self.user(role, **fields)
        response = await self.login(user)
        assert response.status_code == 200, response.text
        return user, {"Authorization": f"Bearer {response.json()['access_token']}"}


def gateway_settings(database_url: str, upstream: Upstream, **overrides: Any) -> GatewaySettings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "service_urls": {"case-core": upstream.url, "routing": upstream.url},
        "rate_limit_enabled": False,
        # Tests of the live stream switch it on with a broker and their own topics.
        "stream_enabled": False,
        "lockout_threshold": 3,
        "openapi_cache_seconds": 0,
        # Cheap hashing keeps the suite fast; production cost is the default.
        "password_time_cost": 1,
        "password_memory_kib": 1024,
    }
    values.update(overrides)
    return GatewaySettings(**values)
