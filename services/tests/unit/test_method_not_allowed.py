"""A 405 names every method the path answers (Starlette names only the first matching route's)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from omnicase.kit.errors import PROBLEM_MEDIA_TYPE, install_error_handlers


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    # Services include their routes through routers, as FastAPI keeps them apart.
    router = APIRouter()

    @router.get("/things")
    async def list_things() -> list[int]:
        return []

    @router.post("/things")
    async def create_thing() -> int:
        return 1

    @router.delete("/things/{thing_id}")
    async def delete_thing(thing_id: int) -> None:
        return None

    @router.patch("/things/{thing_id}")
    async def update_thing(thing_id: int) -> int:
        return thing_id

    app.include_router(router)
    return app


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [("PUT", "/things", "GET, POST"), ("TRACE", "/things", "GET, POST"), ("GET", "/things/7", "PATCH, DELETE")],
)
async def test_a_method_the_path_does_not_answer_is_a_405_naming_all_it_does(
    method: str, path: str, allowed: str
) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://test") as client:
        response = await client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    assert response.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE)
