"""resource_routes: the five routes of a resource call its service and answer as each route's Doc says."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.db import _request_session
from omnicase.kit.errors import NotFound, install_error_handlers
from omnicase.kit.pagination import Page, paginate
from omnicase.kit.routes import Doc, resource_routes

pytestmark = pytest.mark.asyncio

SESSION = object()


class ThingNotFound(NotFound):
    pass


class Thing(BaseModel):
    id: uuid.UUID
    name: str


class ThingIn(BaseModel):
    name: str


class ThingService:
    """Built once per app, it takes the request's session in every call, and answers plain records."""

    def __init__(self) -> None:
        self.things: dict[uuid.UUID, dict[str, Any]] = {}

    def _seen(self, session: AsyncSession) -> None:
        assert session is SESSION

    async def create(self, session: AsyncSession, payload: ThingIn) -> Any:
        self._seen(session)
        thing_id = uuid.uuid4()
        self.things[thing_id] = {"id": thing_id, "name": payload.name}
        # A record the service answers is read into the item by attribute.
        return type("Record", (), self.things[thing_id])()

    async def page(self, session: AsyncSession, cursor: str | None, limit: int) -> Page[Thing]:
        self._seen(session)
        rows = [Thing(**thing) for thing in self.things.values()]
        return paginate(Page[Thing], rows, limit, key=lambda row: [row.id])

    async def get(self, session: AsyncSession, thing_id: uuid.UUID) -> Any:
        self._seen(session)
        if thing_id not in self.things:
            raise ThingNotFound(f"No thing {thing_id}.")
        return Thing(**self.things[thing_id])

    async def update(self, session: AsyncSession, thing_id: uuid.UUID, payload: ThingIn) -> Any:
        await self.get(session, thing_id)
        self.things[thing_id]["name"] = payload.name
        return await self.get(session, thing_id)

    async def delete(self, session: AsyncSession, thing_id: uuid.UUID) -> None:
        await self.get(session, thing_id)
        del self.things[thing_id]


def _client() -> httpx.AsyncClient:
    service = ThingService()
    router = APIRouter(prefix="/things")
    resource_routes(
        router,
        lambda: service,
        with_session=True,
        location=True,
        key="thing_id",
        item=Thing,
        body=ThingIn,
        changes=ThingIn,
        create=Doc("create_thing", "Create a thing"),
        list_=Doc("list_things", "List things"),
        get=Doc("get_thing", "Get a thing", (ThingNotFound,)),
        update=Doc("update_thing", "Change a thing", (ThingNotFound,), description="Only its name."),
        delete=Doc("delete_thing", "Delete a thing", (ThingNotFound,)),
    )
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)
    app.dependency_overrides[_request_session] = lambda: SESSION
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_a_resource_is_created_listed_read_changed_and_deleted_through_its_service() -> None:
    async with _client() as client:
        created = await client.post("/things", json={"name": "first"})
        assert created.status_code == 201, created.text
        thing_id = created.json()["id"]
        assert created.headers["Location"] == f"/things/{thing_id}"
        assert (await client.get("/things")).json() == {"items": [created.json()], "next_cursor": None}
        assert (await client.get(f"/things/{thing_id}")).json() == created.json()
        changed = await client.patch(f"/things/{thing_id}", json={"name": "second"})
        assert changed.json() == {"id": thing_id, "name": "second"}
        deleted = await client.delete(f"/things/{thing_id}")
        assert (deleted.status_code, deleted.content) == (204, b"")
        missing = await client.get(f"/things/{thing_id}")
        assert missing.status_code == 404


async def test_each_route_publishes_what_its_doc_says() -> None:
    async with _client() as client:
        document = (await client.get("/openapi.json")).json()
    item = document["paths"]["/things/{thing_id}"]
    assert {method: operation["operationId"] for method, operation in item.items()} == {
        "get": "get_thing",
        "patch": "update_thing",
        "delete": "delete_thing",
    }
    assert item["patch"]["description"] == "Only its name."
    assert "404" in item["get"]["responses"]
    assert [parameter["name"] for parameter in document["paths"]["/things"]["get"]["parameters"]] == [
        "cursor",
        "limit",
    ]


async def test_a_short_resource_lists_every_item_on_one_page() -> None:
    service = ThingService()

    async def all_things(session: AsyncSession) -> list[Any]:
        return [type("Record", (), thing)() for thing in service.things.values()]

    service.all = all_things  # type: ignore[attr-defined]
    router = APIRouter(prefix="/things")
    resource_routes(
        router,
        lambda: service,
        with_session=True,
        key="thing_id",
        item=Thing,
        body=ThingIn,
        create=Doc("create_thing", "Create a thing"),
        list_all=Doc("list_things", "List every thing", description="One page."),
    )
    app = FastAPI()
    app.include_router(router)
    app.dependency_overrides[_request_session] = lambda: SESSION
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        first = (await client.post("/things", json={"name": "first"})).json()
        second = (await client.post("/things", json={"name": "second"})).json()
        assert (await client.get("/things", params={"limit": 1})).json() == {
            "items": [first, second],
            "next_cursor": None,
        }
        listed = (await client.get("/openapi.json")).json()["paths"]["/things"]["get"]
    assert (listed["operationId"], listed["description"], listed.get("parameters", [])) == (
        "list_things",
        "One page.",
        [],
    )
